import type { Kysely } from "kysely";
import { NotFound } from "../errors.js";
import type { ApiCredentialRow, Tables } from "../db/tables.js";
import { findPageOfIds, type Page, type PageRequest } from "./paging.js";
import { digestsEqual, randomHex, sha256Hex } from "./passwords.js";

export interface ApiCredential {
  id: number;
  name: string;
  username: string;
  /** In clear only in the answer to create; "****" plus the last 4 characters everywhere else. */
  password: string;
  enabled: boolean;
}

export interface CredentialPrincipal {
  accountId: number;
  credentialId: number;
}

/** Called when a credential stops authenticating, so caches of earlier verifications drop it. */
export type RevocationListener = (credentialId: number) => void | Promise<void>;

export class ApiCredentialService {
  private readonly revocationListeners: RevocationListener[] = [];

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly now: () => number = Date.now,
  ) {}

  onRevoked(listener: RevocationListener): void {
    this.revocationListeners.push(listener);
  }

  async create(accountId: number, name: string): Promise<ApiCredential> {
    // 16 random bytes: 128 bits, shown to the caller once and stored only as a digest.
    const password = randomHex(16);
    for (;;) {
      // CallFire usernames are 12 lower-case hex characters; on the rare collision, draw again.
      const username = randomHex(6);
      const row = await this.db
        .insertInto("api_credential")
        .values({
          account_id: accountId,
          name,
          username,
          password_digest: sha256Hex(password),
          password_tail: password.slice(-4),
          enabled: 1,
          created: this.now(),
        })
        .onConflict((c) => c.column("username").doNothing())
        .returningAll()
        .executeTakeFirst();
      if (row) return { ...toCredential(row), password };
    }
  }

  async find(accountId: number, filter: { name?: string }, page: PageRequest): Promise<Page<ApiCredential>> {
    let query = this.db.selectFrom("api_credential").where("account_id", "=", accountId);
    if (filter.name !== undefined) query = query.where("name", "=", filter.name);
    return findPageOfIds(this.db, "api_credential", query, page, toCredential);
  }

  async get(accountId: number, id: number): Promise<ApiCredential> {
    const row = await this.db
      .selectFrom("api_credential")
      .selectAll()
      .where("account_id", "=", accountId)
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row) throw notFound(id);
    return toCredential(row);
  }

  async delete(accountId: number, id: number): Promise<void> {
    const result = await this.db
      .deleteFrom("api_credential")
      .where("account_id", "=", accountId)
      .where("id", "=", id)
      .executeTakeFirst();
    if (Number(result.numDeletedRows) === 0) throw notFound(id);
    await this.revoked(id);
  }

  async setEnabled(accountId: number, id: number, enabled: boolean): Promise<void> {
    const result = await this.db
      .updateTable("api_credential")
      .set({ enabled: enabled ? 1 : 0 })
      .where("account_id", "=", accountId)
      .where("id", "=", id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound(id);
    if (!enabled) await this.revoked(id);
  }

  /** The enabled credential of an enabled account this username and password belong to, or undefined. `db` may be a transaction. */
  async verify(username: string, password: string, db: Kysely<Tables> = this.db): Promise<CredentialPrincipal | undefined> {
    const row = await db
      .selectFrom("api_credential")
      .innerJoin("account", "account.id", "api_credential.account_id")
      .select(["api_credential.id", "api_credential.account_id", "api_credential.password_digest", "api_credential.enabled", "account.disabled_at"])
      .where("api_credential.username", "=", username)
      .executeTakeFirst();
    // A credential of a disabled account is refused like a disabled credential.
    if (!row || !digestsEqual(sha256Hex(password), row.password_digest) || !row.enabled || row.disabled_at !== null) return undefined;
    return { accountId: row.account_id, credentialId: row.id };
  }

  /** Resolves once every listener has (other nodes are told before the revocation is answered). */
  private async revoked(id: number): Promise<void> {
    await Promise.all(this.revocationListeners.map((listener) => listener(id)));
  }
}

function notFound(id: number): NotFound {
  return new NotFound(`api credential ${id} not found`);
}

function toCredential(row: ApiCredentialRow): ApiCredential {
  return {
    id: row.id,
    name: row.name,
    username: row.username,
    password: `****${row.password_tail}`,
    enabled: Boolean(row.enabled),
  };
}
