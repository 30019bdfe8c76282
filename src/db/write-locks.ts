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
 * Locks rows about to be deleted together with what hangs off them, so nothing can be added
 * under them meanwhile (a rendition of a media file, a recording of a call): its blob would be
 * deleted with its row by the cascade, unseen, and left behind. PostgreSQL: FOR UPDATE, which an
 * insert that references the row waits for (and then fails); SQLite: the single writer, at once.
 */
export async function lockForDeletion(tx: Transaction<Tables>, dialect: Dialect, table: "account" | "media" | "call", column: "id" | "account_id", value: number): Promise<void> {
  if (dialect === "postgres") await tx.selectFrom(table).select("id").where(column, "=", value).forUpdate().execute();
  else await takeSqliteWriteLock(tx, dialect);
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
