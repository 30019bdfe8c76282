import type { Generated, Insertable, Selectable } from "kysely";

// Table shapes as Kysely sees them. Times are unix milliseconds, as the API speaks them.
// Booleans are 0/1 integers so both dialects read them the same way.

export interface AccountTable {
  id: Generated<number>;
  email: string;
  password_hash: string;
  name: string | null;
  first_name: string | null;
  last_name: string | null;
  created: number;
}

export interface ApiCredentialTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  username: string;
  /** SHA-256 hex of the generated password: the password itself is never stored. */
  password_digest: string;
  /** The last 4 characters, for CallFire's "****abcd" mask. */
  password_tail: string;
  enabled: number;
  created: number;
}

export interface LoginFailureTable {
  id: Generated<number>;
  username: string;
  failed_at: number;
}

export interface Tables {
  account: AccountTable;
  api_credential: ApiCredentialTable;
  login_failure: LoginFailureTable;
}

export type AccountRow = Selectable<AccountTable>;
export type NewAccountRow = Insertable<AccountTable>;
export type ApiCredentialRow = Selectable<ApiCredentialTable>;
