import SQLite from "better-sqlite3";
import { SelectQueryNode, TableNode, type KyselyPlugin, type OperationNode, type QueryId } from "kysely";

interface PendingWrite {
  table: string;
  sql: string;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Another process writing the server's SQLite file, as the CLI does beside `serve`. Its `plugin`
 * goes on the server's Kysely; `commitAfterNextRead` then commits a write from this connection
 * right after the server's next read of a table: between that read and the server's next write.
 */
export function sqliteWriter(file: string) {
  // No busy timeout: it would block the test's one thread, which is also the server's.
  const connection = new SQLite(file, { timeout: 0 });
  let armed: PendingWrite | undefined;
  const reads = new Map<QueryId, PendingWrite>();

  const commit = (write: PendingWrite) => {
    try {
      connection.prepare(write.sql).run();
      write.resolve();
    } catch (error) {
      // The server holds the write lock: wait for it as busy_timeout would, without blocking.
      if ((error as { code?: string }).code === "SQLITE_BUSY") setTimeout(() => commit(write), 5);
      else write.reject(error);
    }
  };

  const plugin: KyselyPlugin = {
    transformQuery({ node, queryId }) {
      if (armed && readsTable(node, armed.table)) {
        reads.set(queryId, armed);
        armed = undefined;
      }
      return node;
    },
    async transformResult({ queryId, result }) {
      const write = reads.get(queryId);
      reads.delete(queryId);
      if (write) commit(write);
      return result;
    },
  };

  return {
    plugin,
    /** Resolves once `sql` is committed: at once, or after the server released the write lock. */
    commitAfterNextRead(table: string, sql: string): Promise<void> {
      return new Promise((resolve, reject) => {
        armed = { table, sql, resolve, reject };
      });
    },
    close: () => connection.close(),
  };
}

function readsTable(node: OperationNode, table: string): boolean {
  return SelectQueryNode.is(node) && (node.from?.froms.some((from) => TableNode.is(from) && from.table.identifier.name === table) ?? false);
}
