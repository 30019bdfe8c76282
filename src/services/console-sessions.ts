import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import type { Tables } from "../db/tables.js";
import { toAccount, type Account } from "./accounts.js";
import { sha256Hex } from "./passwords.js";

/** How long a console sign-in lasts, however busy: then the account holder signs in again. */
export const consoleSessionLifetimeMs = 12 * 60 * 60_000;

export interface ConsoleSession {
  account: Account;
  expiresAt: number;
  /** Sent back in X-CSRF-Token with every change; derived from the token, so nothing more is stored. */
  csrfToken: string;
}

/**
 * Signed-in web consoles. The token (256 random bits) lives only in the browser's cookie; the
 * database keeps its SHA-256, so every node can check it and a copy of the database cannot be
 * replayed. Every check reads the row, so signing out ends the session on every node at once.
 */
export class ConsoleSessionService {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly now: () => number = Date.now,
  ) {}

  async start(account: Account): Promise<{ token: string; session: ConsoleSession }> {
    const token = randomBytes(32).toString("base64url");
    const now = this.now();
    const expiresAt = now + consoleSessionLifetimeMs;
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto("console_session").values({ token_digest: sha256Hex(token), account_id: account.id, created: now, expires_at: expiresAt }).execute();
      await tx.deleteFrom("console_session").where("expires_at", "<=", now).execute();
    });
    return { token, session: { account, expiresAt, csrfToken: csrfTokenOf(token) } };
  }

  /** The live session of `token`, with its account as it is now; undefined when unknown or expired. */
  async find(token: string): Promise<ConsoleSession | undefined> {
    const row = await this.db
      .selectFrom("console_session")
      .innerJoin("account", "account.id", "console_session.account_id")
      .selectAll("account")
      .select("console_session.expires_at")
      .where("console_session.token_digest", "=", sha256Hex(token))
      .where("console_session.expires_at", ">", this.now())
      // Disabling ends the account's sessions; this refuses one that a race let start meanwhile.
      .where("account.disabled_at", "is", null)
      .executeTakeFirst();
    if (!row) return undefined;
    const { expires_at, ...account } = row;
    return { account: toAccount(account), expiresAt: expires_at, csrfToken: csrfTokenOf(token) };
  }

  async end(token: string): Promise<void> {
    await this.db.deleteFrom("console_session").where("token_digest", "=", sha256Hex(token)).execute();
  }
}

function csrfTokenOf(token: string): string {
  return createHmac("sha256", token).update("switchboard console csrf").digest("base64url");
}

/** Whether `presented` is the CSRF token of the session `token`, in constant time. */
export function isCsrfTokenOf(token: string, presented: string): boolean {
  const expected = Buffer.from(csrfTokenOf(token));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
