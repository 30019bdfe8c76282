import type { Generated, Selectable } from "kysely";

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
  /** Set while the operator has the account disabled: its logins, credentials and sessions are refused. */
  disabled_at: number | null;
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

/** A username's login attempts in its current window: those being checked and those that failed. */
export interface LoginThrottleTable {
  /** Normalised as logins are matched: emails trimmed and lower-cased. */
  username: string;
  /** When the window's first attempt was counted; it ends `failureWindowMs` later. */
  window_start: number;
  attempts: number;
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

/** A key every node shares, created by the first node that needs it. */
/** The fleet's admin token (PostgreSQL): one row, id 1. */
export interface AdminTokenTable {
  id: number;
  /** Hex SHA-256 of the token. */
  digest: string;
  created: number;
}

export interface ServerSecretTable {
  name: string;
  /** base64url of random bytes. */
  value: string;
  created: number;
}

/** A number an account has asked to verify, and where that verification stands. */
export interface CallerIdTable {
  id: Generated<number>;
  account_id: number;
  /** E.164 digits without "+". */
  phone_number: string;
  verified_at: number | null;
  /**
   * HMAC-SHA256 hex of the number's code: the pending one, or once verified_at is set the one that
   * verified it (a retried verification is recognised). The code itself is kept only in the
   * outbox, until it expires.
   */
  code_digest: string | null;
  code_expires_at: number | null;
  failed_attempts: number;
  created: number;
}

export type CallStatus = "PENDING" | "SENT" | "FAILED";

/**
 * What an outbox row delivers: a verification call, a sent call or text (to the platform), or the
 * sandbox simulator's outcome of a call or text it accepted (reported when it is due).
 */
export type DeliveryType = "callerIdVerification" | "call" | "text" | "simulatedCallOutcome" | "simulatedTextOutcome";

/** A delivery: written with what it delivers, handed over by the worker at least once. */
export interface CallOutboxTable {
  id: Generated<number>;
  /** Stable across retries, so receivers can drop duplicates: the delivery id. */
  call_id: string;
  type: Generated<DeliveryType>;
  /** The call or text delivered (null for verification calls). */
  action_id: number | null;
  /** JSON of a simulated outcome, decided when the simulator accepted the call or text. */
  payload: string | null;
  account_id: number;
  to_number: string;
  /** In clear because the call must speak it; erased (null) once the code expires. */
  code: string | null;
  message: string | null;
  code_expires_at: number | null;
  status: CallStatus;
  attempts: number;
  last_error: string | null;
  next_attempt_at: number;
  created: number;
  updated: number;
}

/** An account's plan (null: the configured default plan), pay-as-you-go balance and this month's plan usage. Credits in ten-thousandths. */
export interface BillingAccountTable {
  account_id: number;
  plan_name: string | null;
  plan_monthly_credits: number | null;
  plan_credits_per_call_minute: number | null;
  plan_credits_per_text: number | null;
  /** May be negative: usage that happened is charged even when nothing is left. */
  pay_as_you_go: Generated<number>;
  /** First millisecond of the UTC month `plan_credits_used` counts; only ever moves forward. */
  plan_month_start: Generated<number>;
  plan_credits_used: Generated<number>;
}

/** An operator's top-up (positive) or deduction (negative) of pay-as-you-go credits. Append-only. */
export interface CreditAdjustmentTable {
  id: Generated<number>;
  account_id: number;
  amount: number;
  created: number;
}

export type ActionState = "READY" | "SELECTED" | "FINISHED";

/** A call: ingested by the operator (FINISHED at once), or sent through sendCalls. */
export interface CallTable {
  id: Generated<number>;
  account_id: number;
  /** E.164 digits without "+". */
  from_number: string;
  to_number: string;
  /** When it started; for a call not finished yet, when it was created. */
  start_time: number;
  /** 0 until the call finished. */
  duration_seconds: number;
  campaign_id: number | null;
  /** The operator's idempotency key, unique per account. */
  external_id: string | null;
  created: number;
  state: Generated<ActionState>;
  inbound: Generated<number>;
  /** The sendCalls request it came from. */
  batch_id: number | null;
  /** JSON CallScript: what a sent call plays (src/services/call-sending.ts). */
  script: string | null;
  /** JSON object of string attributes the sender gave. */
  attributes: string | null;
  /** JSON array of labels (also rows of call_label, which findCalls?label= reads). */
  labels: string | null;
  final_result: string | null;
  finish_time: number | null;
  caller_name: string | null;
  modified: Generated<number>;
}

export interface CallLabelTable {
  call_id: number;
  label: string;
  account_id: number;
  created: number;
}

/** A text: ingested by the operator (FINISHED at once), or sent through sendTexts. */
export interface TextTable {
  id: Generated<number>;
  account_id: number;
  from_number: string;
  to_number: string;
  inbound: number;
  state: ActionState;
  batch_id: number | null;
  campaign_id: number | null;
  message: string | null;
  /** What it is billed: 1 up to 160 characters, else one per 153. */
  segments: number;
  attributes: string | null;
  labels: string | null;
  final_result: string | null;
  finish_time: number | null;
  external_id: string | null;
  created: number;
  modified: number;
}

/** The media a text carries, in order. */
export interface TextMediaTable {
  text_id: number;
  position: number;
  media_id: number;
}

export interface TextLabelTable {
  text_id: number;
  label: string;
  account_id: number;
  created: number;
}

export type BatchKind = "CALLS" | "TEXTS";

export interface SendBatchTable {
  id: Generated<number>;
  account_id: number;
  kind: BatchKind;
  created: number;
}

/** A sendCalls/sendTexts Idempotency-Key and the response it got, kept 24 hours. */
export interface IdempotencyKeyTable {
  account_id: number;
  operation: string;
  key: string;
  /** SHA-256 hex of the request (query and body): the same key with another request is a 409. */
  request_digest: string;
  /** The JSON response body. */
  response: string;
  created: number;
}

export type UsageKind = "CALL" | "TEXT";

/** An account's usage_charge sums for one UTC day, kept with each charge (migration 0011). */
export interface UsageDayTable {
  account_id: number;
  /** floor(time / 86,400,000) of the charges it sums. */
  day: number;
  call_minutes: number;
  texts: number;
  credits: number;
}

/**
 * One charge in the append-only usage ledger. Credits in ten-thousandths. It outlives what it
 * charged: a deleted call or text leaves call_id / text_id null, a deleted account its bare id.
 */
export interface UsageChargeTable {
  id: Generated<number>;
  account_id: number;
  kind: UsageKind;
  /** When the usage happened (a call's start): what getCreditUsage intervals select on. */
  time: number;
  /** When it was charged: which month's plan credits it took. */
  charged_at: number;
  call_id: number | null;
  /** The text this charge is for; null for usage-only text reports. */
  text_id: number | null;
  /** Texts' idempotency key, unique per account. */
  external_id: string | null;
  call_minutes: number;
  texts: number;
  credits: number;
  plan_credits: number;
  pay_as_you_go_credits: number;
}

export type CallRecordingState = "RECORDING" | "READY" | "ERROR";

/** A call's recording; the audio columns are set once it is READY. */
export interface CallRecordingTable {
  id: Generated<number>;
  account_id: number;
  call_id: number;
  /** Unique within the call. */
  name: string;
  state: CallRecordingState;
  created: number;
  /** The MP3 (a WAV upload is converted before it is stored). */
  blob_key: string | null;
  length_in_bytes: number | null;
  sha256: string | null;
  duration_ms: number | null;
  /** SHA-256 hex of the file as uploaded (a WAV's, before it became the MP3): a repeated upload is recognised by it. */
  source_sha256: string | null;
}

/** A signed-in web console (src/services/console-sessions.ts). */
export interface ConsoleSessionTable {
  id: Generated<number>;
  /** SHA-256 hex of the cookie's token: the token itself is never stored. */
  token_digest: string;
  account_id: number;
  created: number;
  expires_at: number;
}

export interface Tables {
  account: AccountTable;
  api_credential: ApiCredentialTable;
  login_throttle: LoginThrottleTable;
  media: MediaTable;
  media_rendition: MediaRenditionTable;
  server_secret: ServerSecretTable;
  admin_token: AdminTokenTable;
  caller_id: CallerIdTable;
  call_outbox: CallOutboxTable;
  billing_account: BillingAccountTable;
  credit_adjustment: CreditAdjustmentTable;
  call: CallTable;
  usage_charge: UsageChargeTable;
  usage_day: UsageDayTable;
  call_recording: CallRecordingTable;
  console_session: ConsoleSessionTable;
  call_label: CallLabelTable;
  text: TextTable;
  text_media: TextMediaTable;
  text_label: TextLabelTable;
  send_batch: SendBatchTable;
  idempotency_key: IdempotencyKeyTable;
}

export type AccountRow = Selectable<AccountTable>;
export type ApiCredentialRow = Selectable<ApiCredentialTable>;
export type MediaRow = Selectable<MediaTable>;
export type CallOutboxRow = Selectable<CallOutboxTable>;
export type CallRow = Selectable<CallTable>;
export type TextRow = Selectable<TextTable>;
export type CallRecordingRow = Selectable<CallRecordingTable>;
export type BillingAccountRow = Selectable<BillingAccountTable>;
