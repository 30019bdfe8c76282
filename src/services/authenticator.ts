import { hash, randomBytes } from "node:crypto";
import { singleNode, type FleetNotice, type FleetNotices } from "../db/fleet-notices.js";
import { Unauthorized } from "../errors.js";
import type { Account, AccountService } from "./accounts.js";
import type { ApiCredentialService } from "./api-credentials.js";
import type { LoginThrottle } from "./login-throttle.js";

/**
 * Who is calling: the account holder's own login, or one of the account's API credentials, with
 * the account as it was when the pair was last verified.
 */
export type Principal =
  | { kind: "account"; accountId: number; account: Account }
  | { kind: "credential"; accountId: number; credentialId: number; account: Account };

export interface AuthenticatorOptions {
  /** How long a successful verification (and a lockout) is trusted without asking the database again. */
  cacheTtlMs: number;
  cacheMaxEntries: number;
  /** Attempts for one username within `failureWindowMs` before 429. */
  maxFailures: number;
  failureWindowMs: number;
  now: () => number;
}

export const defaultAuthenticatorOptions: AuthenticatorOptions = {
  cacheTtlMs: 10_000,
  cacheMaxEntries: 10_000,
  maxFailures: 10,
  failureWindowMs: 5 * 60_000,
  now: Date.now,
};

/**
 * Resolves a Basic username and password to a principal. Account logins are scrypt-hashed, which
 * costs tens of milliseconds, so successful verifications are cached briefly, keyed by a
 * SHA-256 of the presented credentials behind a per-process random secret (the cache never holds
 * a password or a plain hash of one; the digest never leaves the process, so a MAC construction
 * adds nothing). Revocations on this node drop cache entries at once and are published to the
 * other nodes (PostgreSQL NOTIFY), which drop theirs when the notice arrives; a node that misses it
 * (its listening connection is down) forgets within the TTL, and flushes its cache when it is back.
 * Attempts are counted in the database before they are checked (LoginThrottle), so
 * the brute-force guard holds under any concurrency and across nodes; a cache hit counts nothing.
 */
export class Authenticator {
  private readonly cacheSecret = randomBytes(32).toString("base64");
  private readonly cache = new Map<string, { principal: Principal; expiresAt: number; refreshAt: number }>();
  /** Verifications under way, so a burst of requests with one uncached pair runs one scrypt. */
  private readonly inflight = new Map<string, Promise<Principal>>();
  /** Bumped by every revocation: a verification that started before one must not be cached. */
  private generation = 0;
  private readonly options: AuthenticatorOptions;

  constructor(
    private readonly accounts: AccountService,
    private readonly credentials: ApiCredentialService,
    private readonly throttle: LoginThrottle,
    options: Partial<AuthenticatorOptions> = {},
    private readonly notices: FleetNotices = singleNode,
  ) {
    this.options = { ...defaultAuthenticatorOptions, ...options };
    credentials.onRevoked((id) => this.revoked({ kind: "credentialRevoked", id }));
    accounts.onPasswordChanged((accountId) => this.revoked({ kind: "passwordChanged", accountId }));
    // An account disabled or deleted: its login and every credential of it, on every node.
    accounts.onDisabled((accountId) => this.revoked({ kind: "accountRevoked", accountId }));
    notices.subscribe(
      (notice) => this.apply(notice),
      () => this.forget(() => true),
    );
  }

  /** Forgets here at once, then tells the other nodes. */
  private async revoked(notice: FleetNotice): Promise<void> {
    this.apply(notice);
    await this.notices.publish(notice);
  }

  private apply(notice: FleetNotice): void {
    switch (notice.kind) {
      case "credentialRevoked":
        return this.forget((p) => p.kind === "credential" && p.credentialId === notice.id);
      case "passwordChanged":
        return this.forget((p) => p.kind === "account" && p.accountId === notice.accountId);
      case "accountRevoked":
        return this.forget((p) => p.accountId === notice.accountId);
      default:
        return;
    }
  }

  /**
   * `presented` is the credentials exactly as they arrived (the Authorization header's value): a
   * cache hit needs only its keyed hash, and `decode` runs only when the pair must be verified.
   */
  async authenticate(presented: string, decode: () => { username: string; password: string }): Promise<Principal> {
    const principal = this.cached(presented, decode);
    if (principal) return principal;
    const { username, password } = decode();
    return this.verifyOnce(this.cacheKey(presented), username, password);
  }

  /**
   * The principal of a current cached verification of `presented`, without waiting for anything
   * (the hot path: no promise); undefined when the pair must be verified (authenticate does).
   */
  cached(presented: string, decode: () => { username: string; password: string }): Principal | undefined {
    const key = this.cacheKey(presented);
    const cached = this.cache.get(key);
    const now = this.options.now();
    if (!cached || cached.expiresAt <= now) return undefined;
    // Re-verify in the background before the entry expires, so a busy client never waits for
    // scrypt; the entry is still trusted no longer than the TTL after its last verification.
    if (cached.refreshAt <= now && !this.inflight.has(key)) {
      const { username, password } = decode();
      this.verifyOnce(key, username, password).catch(() => {});
    }
    return cached.principal;
  }

  private cacheKey(presented: string): string {
    return hash("sha256", `${this.cacheSecret}\0${presented}`, "base64");
  }

  private verifyOnce(key: string, username: string, password: string): Promise<Principal> {
    let pending = this.inflight.get(key);
    if (!pending) {
      const started: Promise<Principal> = this.verifyAndCache(key, username, password).finally(() => {
        // A revocation may have replaced it meanwhile (see forget).
        if (this.inflight.get(key) === started) this.inflight.delete(key);
      });
      pending = started;
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async verifyAndCache(key: string, username: string, password: string): Promise<Principal> {
    const generation = this.generation;
    const now = this.options.now();
    const principal = await this.verify(username, password);
    if (!principal) {
      this.cache.delete(key);
      throw new Unauthorized();
    }
    if (generation === this.generation) {
      this.cache.delete(key);
      if (this.cache.size >= this.options.cacheMaxEntries) {
        // Maps iterate in insertion order: drop the oldest entry.
        this.cache.delete(this.cache.keys().next().value as string);
      }
      const { cacheTtlMs } = this.options;
      this.cache.set(key, { principal, expiresAt: now + cacheTtlMs, refreshAt: now + cacheTtlMs * 0.8 });
    }
    return principal;
  }

  private async verify(username: string, password: string): Promise<Principal | undefined> {
    // Account logins are email addresses; generated credential usernames never contain "@".
    if (username.includes("@")) {
      const account = await this.throttle.check(username, () => this.accounts.verifyLogin(username, password));
      return account && { kind: "account", accountId: account.id, account };
    }
    const credential = await this.throttle.checkInTransaction(username, (db) => this.credentials.verify(username, password, db));
    return credential && { kind: "credential", ...credential, account: await this.accounts.get(credential.accountId) };
  }

  private forget(matches: (principal: Principal) => boolean): void {
    this.generation++;
    // A verification under way may have read the database before the revocation: a request from
    // now on must not take its answer, so it starts its own.
    this.inflight.clear();
    for (const [key, entry] of this.cache) if (matches(entry.principal)) this.cache.delete(key);
  }
}
