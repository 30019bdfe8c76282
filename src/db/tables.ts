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

export interface MediaTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  created: number;
  /** One of the accepted formats' canonical extensions (src/services/media-formats.ts). */
  format: string;
  length_in_bytes: number;
  sha256: string;
  blob_key: string;
  /** The secret of the public download URL: 128 random bits, base64url. */
  public_key: string;
  /** Audio and video only, when it could be probed. */
  duration_ms: number | null;
}

/** A converted copy of a media file (WAV of an MP3, MP3 of a WAV), made once and kept. */
export interface MediaRenditionTable {
  media_id: number;
  format: string;
  blob_key: string;
  length_in_bytes: number;
  sha256: string;
}

export interface Tables {
  account: AccountTable;
  api_credential: ApiCredentialTable;
  login_failure: LoginFailureTable;
  media: MediaTable;
  media_rendition: MediaRenditionTable;
}

export type AccountRow = Selectable<AccountTable>;
export type NewAccountRow = Insertable<AccountTable>;
export type ApiCredentialRow = Selectable<ApiCredentialTable>;
export type MediaRow = Selectable<MediaTable>;
