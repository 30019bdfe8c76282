import { sql, type Transaction } from "kysely";
import type { Dialect } from "./database.js";
import type { Tables } from "./tables.js";

/**
 * Makes a SQLite transaction the writer from its first statement on. A deferred transaction that
 * reads and then writes cannot wait for the write lock: if another connection (the CLI beside
 * `serve`) committed after its first read, the write fails at once with SQLITE_BUSY_SNAPSHOT, and
 * busy_timeout does not apply. A write as the first statement waits for the lock instead, and
 * nothing can commit under the reads that follow. PostgreSQL locks rows, so it has nothing to do.
 */
export async function takeSqliteWriteLock(tx: Transaction<Tables>, dialect: Dialect): Promise<void> {
  if (dialect === "sqlite") await sql`update account set id = id where false`.execute(tx);
}

/**
 * Runs the read-then-write transactions of one account one at a time; call it first. PostgreSQL
 * locks the account row (NO KEY UPDATE: inserts that reference the account still proceed); SQLite
 * has a single writer, taken at once.
 */
export async function lockAccountForUpdate(tx: Transaction<Tables>, dialect: Dialect, accountId: number): Promise<void> {
  if (dialect === "postgres") {
    await tx.selectFrom("account").select("id").where("id", "=", accountId).forNoKeyUpdate().execute();
  } else {
    await takeSqliteWriteLock(tx, dialect);
  }
}
