import { sql, type Kysely } from "kysely";
import type { Tables } from "../../src/db/tables.js";
import { call, type TestAccount, type TestApp } from "./app.js";
import { admin, ingestCall, uploadRecording } from "./calls.js";
import { fixture, upload } from "./media.js";

/** The tables that hold an account_id: everything of an account but the rows that hang off these. */
export const accountTables = [
  "api_credential",
  "media",
  "caller_id",
  "call_outbox",
  "billing_account",
  "call",
  "call_label",
  "call_recording",
  "text",
  "text_label",
  "send_batch",
  "idempotency_key",
  "console_session",
  "usage_charge",
  "credit_adjustment",
] as const;

/** What an account has once it has used everything: the ids and keys tests look for afterwards. */
export interface Populated {
  mediaId: number;
  publicUrl: string;
  callId: number;
  recordingId: number;
  textId: number;
  blobKeys: string[];
  consoleCookie: string;
}

/**
 * Gives `account` one of everything: media with a rendition, a labelled call with a recording,
 * a text carrying the media, a verification call in the outbox, a console session, a failed
 * login, a credit top-up, a text usage report and an idempotency key.
 */
export async function populate(app: TestApp, account: TestAccount): Promise<Populated> {
  const media = await upload(app, account.api, fixture("tone.mp3"), { filename: "tone.mp3" });
  if (media.status !== 201 && media.status !== 200) throw new Error(`upload: ${JSON.stringify(media.json)}`);
  const wav = await fetch(`${app.baseUrl}/v2/media/${media.json.id}.wav`, { headers: { authorization: account.api } });
  if (wav.status !== 200) throw new Error(`rendition: ${wav.status}`);
  await wav.arrayBuffer();

  const ingested = await ingestCall(app, account.id, { labels: ["support"] });
  const recording = await uploadRecording(app, "POST", `/calls/${ingested.json.id}/recordings`, fixture("tone.mp3"), { name: "greeting" });
  if (recording.status !== 201) throw new Error(`recording: ${JSON.stringify(recording.json)}`);
  const text = await admin(app, "POST", `/accounts/${account.id}/texts`, {
    fromNumber: "12135551189",
    toNumber: "13105550100",
    message: "hello",
    media: [media.json.id],
    labels: ["promo"],
  });
  if (text.status !== 201) throw new Error(`text: ${JSON.stringify(text.json)}`);
  await admin(app, "POST", `/accounts/${account.id}/texts`, { count: 3 });
  await admin(app, "POST", `/accounts/${account.id}/credits`, { amount: 10 });
  await app.services.callerIds.sendCode(account.id, "12135551189");

  const session = await call(app, "POST", "/console/api/session", { body: { email: account.email, password: account.password } });
  const token = /^switchboard_session=([^;]+);/.exec(session.headers.get("set-cookie") ?? "")?.[1];
  if (!token) throw new Error(`console sign-in: ${session.text}`);
  await call(app, "GET", "/v2/me/account", { auth: `Basic ${Buffer.from(`${account.email}:wrong password`).toString("base64")}` });
  await app.database.db
    .insertInto("idempotency_key")
    .values({ account_id: account.id, operation: "sendTexts", key: `k-${account.id}`, request_digest: "0".repeat(64), response: "{}", created: Date.now() })
    .execute();

  const { json: described } = await call(app, "GET", `/v2/media/${media.json.id}`, { auth: account.api });
  return {
    mediaId: media.json.id,
    publicUrl: new URL(described.publicUrl).pathname,
    callId: ingested.json.id,
    recordingId: recording.json.id,
    textId: text.json.id,
    blobKeys: await blobKeysOf(app.database.db, account.id),
    consoleCookie: `switchboard_session=${token}`,
  };
}

/** The blob keys of an account's media, renditions and recordings. */
export async function blobKeysOf(db: Kysely<Tables>, accountId: number): Promise<string[]> {
  const media = await db.selectFrom("media").select("blob_key as key").where("account_id", "=", accountId).execute();
  const renditions = await db
    .selectFrom("media_rendition")
    .innerJoin("media", "media.id", "media_rendition.media_id")
    .select("media_rendition.blob_key as key")
    .where("media.account_id", "=", accountId)
    .execute();
  const recordings = await db.selectFrom("call_recording").select("blob_key as key").where("account_id", "=", accountId).execute();
  return [...media, ...renditions, ...recordings].flatMap((row) => (row.key ? [row.key] : [])).sort();
}

/** Those of `keys` the blob store has. */
export async function storedBlobs(app: TestApp, keys: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const key of keys) if (await app.blobs.stat(key)) found.push(key);
  return found;
}

/** Every row of the account in every table, with the renditions of its media and the media of its texts. */
export async function rowsOf(db: Kysely<Tables>, accountId: number): Promise<Record<string, string[]>> {
  const rows: Record<string, string[]> = {};
  const stringify = (list: unknown[]) => list.map((row) => JSON.stringify(row, (_key, value) => (typeof value === "bigint" ? String(value) : value))).sort();
  for (const table of accountTables) {
    rows[table] = stringify((await sql`select * from ${sql.table(table)} where account_id = ${accountId}`.execute(db)).rows);
  }
  rows.account = stringify(await db.selectFrom("account").selectAll().where("id", "=", accountId).execute());
  rows.media_rendition = stringify(
    await db.selectFrom("media_rendition").innerJoin("media", "media.id", "media_rendition.media_id").selectAll("media_rendition").where("media.account_id", "=", accountId).execute(),
  );
  rows.text_media = stringify(await db.selectFrom("text_media").innerJoin("text", "text.id", "text_media.text_id").selectAll("text_media").where("text.account_id", "=", accountId).execute());
  return rows;
}
