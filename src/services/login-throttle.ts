import type { Kysely } from "kysely";
import { singleNode, type FleetNotices } from "../db/fleet-notices.js";
import type { Tables } from "../db/tables.js";
import { NotFound, TooManyRequests } from "../errors.js";
import type { Metrics } from "../metrics.js";
import { normaliseEmail } from "./accounts.js";
import type { AuthenticatorOptions } from "./authenticator.js";
import { findPage, type Page, type PageRequest } from "./paging.js";

/** `cacheTtlMs` is also how long this process trusts a lockout it saw without asking the database again. */
export type LoginThrottleOptions = Pick<AuthenticatorOptions, "maxFailures" | "failureWindowMs" | "cacheTtlMs" | "cacheMaxEntries" | "now">;

/** A username that has used up its attempts, until its window ends. */
export interface LoginLockout {
  username: string;
  failedAttempts: number;
  /** Unix milliseconds. */
  lockedUntil: number;
}

/**
 * The key a login is throttled under: the login as it is matched, so `OPS@example.com` and
 * `ops@example.com` share one allowance. Account logins are emails (matched trimmed and
 * lower-cased); API-credential usernames never contain "@" and are matched exactly.
 */
export function throttledUsername(login: string): string {
  return login.includes("@") ? normaliseEmail(login) : login;
}

/**
 * Counts login attempts per username in the database, so the limit holds across server processes.
 * An attempt is taken before its password is checked, by one upsert that refuses once the window
 * holds `maxFailures` attempts: concurrent requests queue on the row (its lock on PostgreSQL, the
 * write lock on SQLite), so at most `maxFailures` checks run per window however many arrive at
 * once. A successful login gives its attempt back, so only failures (and checks in flight) count.
 * A window starts at its first attempt and lasts `failureWindowMs`.
 *
 * A lockout seen here is remembered for `cacheTtlMs`, so a flood of guesses at a locked username
 * costs no queries; an operator's lift drops it at once on this node, and on the others when the
 * notice arrives (PostgreSQL; within the TTL if it is lost).
 */
export class LoginThrottle {
  private readonly knownLockouts = new Map<string, { lockedUntil: number; trustedUntil: number }>();

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly options: LoginThrottleOptions,
    private readonly metrics?: Metrics,
    private readonly notices: FleetNotices = singleNode,
  ) {
    notices.subscribe(
      (notice) => {
        if (notice.kind === "lockoutLifted") this.knownLockouts.delete(notice.username);
      },
      () => this.knownLockouts.clear(),
    );
  }

  /**
   * Runs a check that takes a while (scrypt) under the throttle: the attempt is committed before
   * it runs, and given back when it succeeds or cannot be made (it throws). Undefined: it failed.
   */
  async check<T>(login: string, verify: () => Promise<T | undefined>): Promise<T | undefined> {
    const username = throttledUsername(login);
    const windowStart = await this.take(username, this.db);
    let verified: T | undefined;
    try {
      verified = await verify();
    } catch (error) {
      await this.giveBack(username, windowStart);
      throw error;
    }
    if (verified === undefined) await this.sweepExpired(this.db);
    else await this.giveBack(username, windowStart);
    return verified;
  }

  /**
   * Runs a check that is a query (an API credential's digest) in one transaction with its attempt,
   * which is rolled back when the check succeeds: a successful check costs one write, never committed.
   */
  async checkInTransaction<T>(login: string, verify: (db: Kysely<Tables>) => Promise<T | undefined>): Promise<T | undefined> {
    const username = throttledUsername(login);
    const tx = await this.db.startTransaction().execute();
    try {
      await this.take(username, tx);
      const verified = await verify(tx);
      if (verified === undefined) {
        await this.sweepExpired(tx);
        await tx.commit().execute();
      } else {
        await tx.rollback().execute();
      }
      return verified;
    } catch (error) {
      if (!tx.isCommitted && !tx.isRolledBack) await tx.rollback().execute();
      throw error;
    }
  }

  async list(page: PageRequest): Promise<Page<LoginLockout>> {
    const { maxFailures, failureWindowMs } = this.options;
    const lockedOut = this.db
      .selectFrom("login_throttle")
      .where("attempts", ">=", maxFailures)
      .where("window_start", ">", this.options.now() - failureWindowMs);
    return findPage(
      this.db,
      lockedOut,
      page,
      (q) => q.select(["username", "attempts", "window_start"]).orderBy("window_start").orderBy("username"),
      (row) => ({ username: row.username, failedAttempts: row.attempts, lockedUntil: row.window_start + failureWindowMs }),
    );
  }

  /** Ends the lockout of this login (in any case), giving it a fresh allowance. NotFound if it is not locked out. */
  async lift(login: string): Promise<void> {
    const username = throttledUsername(login);
    const result = await this.db
      .deleteFrom("login_throttle")
      .where("username", "=", username)
      .where("attempts", ">=", this.options.maxFailures)
      .where("window_start", ">", this.options.now() - this.options.failureWindowMs)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw new NotFound(`${JSON.stringify(username)} is not locked out`);
    this.knownLockouts.delete(username);
    await this.notices.publish({ kind: "lockoutLifted", username });
  }

  /** Takes an attempt and returns its window's start, or throws TooManyRequests saying when the lockout ends. */
  private async take(username: string, db: Kysely<Tables>): Promise<number> {
    const { maxFailures, failureWindowMs } = this.options;
    const now = this.options.now();
    const known = this.knownLockouts.get(username);
    if (known && known.trustedUntil > now) {
      this.metrics?.throttle("login");
      throw lockedOut(known.lockedUntil, now);
    }

    const expiredBefore = now - failureWindowMs;
    const taken = await db
      .insertInto("login_throttle")
      .values({ username, window_start: now, attempts: 1 })
      .onConflict((conflict) =>
        conflict
          .column("username")
          .doUpdateSet((eb) => {
            const expired = eb("login_throttle.window_start", "<=", expiredBefore);
            return {
              window_start: eb.case().when(expired).then(now).else(eb.ref("login_throttle.window_start")).end(),
              attempts: eb.case().when(expired).then(1).else(eb("login_throttle.attempts", "+", 1)).end(),
            };
          })
          .where((eb) => eb.or([eb("login_throttle.window_start", "<=", expiredBefore), eb("login_throttle.attempts", "<", maxFailures)])),
      )
      .returning("window_start")
      .executeTakeFirst();
    if (taken) {
      this.knownLockouts.delete(username);
      return taken.window_start;
    }
    const row = await db.selectFrom("login_throttle").select("window_start").where("username", "=", username).executeTakeFirst();
    // No row: its window ended and was swept in between; the next attempt will be taken.
    const lockedUntil = row ? row.window_start + failureWindowMs : now;
    this.remember(username, lockedUntil, now);
    this.metrics?.throttle("login");
    throw lockedOut(lockedUntil, now);
  }

  /** Gives a successful login's attempt back, unless its window has ended meanwhile. */
  private async giveBack(username: string, windowStart: number): Promise<void> {
    await this.db
      .updateTable("login_throttle")
      .set((eb) => ({ attempts: eb("attempts", "-", 1) }))
      .where("username", "=", username)
      .where("window_start", "=", windowStart)
      .where("attempts", ">", 0)
      .execute();
  }

  /** A failed attempt stays counted; this sweeps the windows that ended (an index range, not a scan). */
  private async sweepExpired(db: Kysely<Tables>): Promise<void> {
    await db.deleteFrom("login_throttle").where("window_start", "<=", this.options.now() - this.options.failureWindowMs).execute();
  }

  private remember(username: string, lockedUntil: number, now: number): void {
    this.knownLockouts.delete(username);
    // Maps iterate in insertion order: drop the oldest entry.
    if (this.knownLockouts.size >= this.options.cacheMaxEntries) this.knownLockouts.delete(this.knownLockouts.keys().next().value as string);
    this.knownLockouts.set(username, { lockedUntil, trustedUntil: Math.min(lockedUntil, now + this.options.cacheTtlMs) });
  }
}

function lockedOut(lockedUntil: number, now: number): TooManyRequests {
  const seconds = Math.max(1, Math.ceil((lockedUntil - now) / 1000));
  return new TooManyRequests(`too many failed logins for this username; try again in ${seconds} s`, seconds);
}
