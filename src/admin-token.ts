import fs from "node:fs";
import path from "node:path";
import { createHash, randomBytes } from "node:crypto";
import type { Database } from "./db/database.js";

/**
 * Where the operator's bearer token comes from, in this order:
 * - SWITCHBOARD_ADMIN_TOKEN (a fleet whose nodes must all be configured alike sets it there);
 * - PostgreSQL: the `admin_token` row every node shares, holding only the token's SHA-256; the
 *   first node to start on an empty database makes it and prints it once;
 * - SQLite: the data directory's `admin-token` file, made on the first start.
 * `switchboard admin-token rotate` replaces the generated one; every node takes the new one
 * without a restart (at once where the notice arrives, within `reloadMs` otherwise).
 */

/** How long the bearer check trusts the digest it read without reading it again. */
export const reloadMs = 5_000;

export function tokenDigest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** The SHA-256 of the current token, for the bearer check (undefined while none was made yet). */
export function adminTokenDigest(configured: string | undefined, dataDir: string, database: Database): () => Promise<Buffer | undefined> {
  if (configured) {
    const digest = tokenDigest(configured);
    return async () => digest;
  }
  if (database.dialect === "sqlite") return reloaded(database, async () => tokenDigest(fs.readFileSync(tokenFile(dataDir), "utf8").trim()));
  return reloaded(database, () => storedDigest(database));
}

/**
 * Makes the generated token unless there is one; returns what the start banner says about it.
 * Nodes starting together on an empty PostgreSQL database all try to insert the one row; the one
 * that inserted it prints the token, the others say where it came from.
 */
export async function ensureAdminToken(configured: string | undefined, dataDir: string, database: Database, base: string): Promise<string> {
  const where = `Authorization: Bearer <token> on ${base}/admin/v1`;
  if (configured) return `operator token: from SWITCHBOARD_ADMIN_TOKEN (${where})`;
  if (database.dialect === "sqlite") {
    const file = tokenFile(dataDir);
    createTokenFile(file);
    return `operator token: in ${file} (${where})`;
  }
  const token = newToken();
  const created = await database.db
    .insertInto("admin_token")
    .values({ id: 1, digest: tokenDigest(token).toString("hex"), created: Date.now() })
    .onConflict((c) => c.column("id").doNothing())
    .returning("id")
    .executeTakeFirst();
  if (created) return `operator token: ${token}\n  (shown this once, stored hashed in the database, accepted by every node: ${where})`;
  return "operator token: the admin token was created by another node (or an earlier start); `switchboard admin-token rotate` makes a new one";
}

/** `switchboard admin-token rotate`: a new generated token, returned in clear this once. */
export async function rotateAdminToken(dataDir: string, database: Database): Promise<{ token: string; file?: string }> {
  const token = newToken();
  if (database.dialect === "sqlite") {
    const file = tokenFile(dataDir);
    const draft = `${file}.${randomBytes(6).toString("hex")}`;
    fs.writeFileSync(draft, `${token}\n`, { mode: 0o600, flag: "wx" });
    // A rename replaces the file whole: a node reading it sees the old token or the new one.
    fs.renameSync(draft, file);
    return { token, file };
  }
  const digest = tokenDigest(token).toString("hex");
  await database.db
    .insertInto("admin_token")
    .values({ id: 1, digest, created: Date.now() })
    .onConflict((c) => c.column("id").doUpdateSet({ digest, created: Date.now() }))
    .execute();
  await database.notices.publish({ kind: "adminTokenRotated" });
  return { token };
}

function tokenFile(dataDir: string): string {
  return path.join(dataDir, "admin-token");
}

/**
 * Makes the token file unless it exists, mode 0600. The new one is written whole under another
 * name and then linked into place, which fails if the file exists: two processes starting at once
 * agree on one token, and neither can read a file the other has created but not yet written.
 */
function createTokenFile(file: string): void {
  if (fs.existsSync(file)) return;
  const draft = `${file}.${randomBytes(6).toString("hex")}`;
  fs.writeFileSync(draft, `${newToken()}\n`, { mode: 0o600, flag: "wx" });
  try {
    fs.linkSync(draft, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    fs.rmSync(draft);
  }
}

async function storedDigest(database: Database): Promise<Buffer | undefined> {
  const row = await database.db.selectFrom("admin_token").select("digest").where("id", "=", 1).executeTakeFirst();
  return row && Buffer.from(row.digest, "hex");
}

/**
 * `load` at most once per `reloadMs`, and again at once after a rotation notice (or after notices
 * were missed). If it fails, the digest read last is kept: during a database blip an operator
 * request fails on the queries it makes, not on its token.
 */
function reloaded(database: Database, load: () => Promise<Buffer | undefined>): () => Promise<Buffer | undefined> {
  let current: Promise<Buffer | undefined> | undefined;
  let loadedAt = 0;
  let last: Buffer | undefined;
  database.notices.subscribe(
    (notice) => {
      if (notice.kind === "adminTokenRotated") current = undefined;
    },
    () => (current = undefined),
  );
  return () => {
    if (!current || Date.now() - loadedAt >= reloadMs) {
      loadedAt = Date.now();
      current = load().then(
        (digest) => (last = digest),
        () => last,
      );
    }
    return current;
  };
}
