import { sql, type Kysely } from "kysely";
import { withId, type Dialect } from "./columns.js";

// Calls and texts sent through /v2 (sendCalls, sendTexts) are the same records as those the
// operator ingests: this extends `call` with what a sent call needs, adds `text`, and lets the
// outbox carry every kind of delivery.
//
// Every list (findCalls, findTexts) is newest first, `created desc, id desc`, so each filter has
// an index that ends in (created, id): a page is then a short index range read backwards.

export function callsAndTexts(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const addColumns = async (table: string, columns: Array<[string, string]>) => {
        for (const [name, type] of columns) await sql.raw(`alter table "${table}" add column ${name} ${type}`).execute(db);
      };

      // A batch is one sendCalls or sendTexts request; findCalls?batchId= returns its calls.
      await withId(db.schema.createTable("send_batch"), dialect)
        .addColumn("account_id", "bigint", (c) => c.notNull().references("account.id").onDelete("cascade"))
        .addColumn("kind", "varchar(8)", (c) => c.notNull())
        .addColumn("created", "bigint", (c) => c.notNull())
        .execute();

      // Ingested calls were all finished: they keep FINISHED, and get LA when they lasted, NO_ANS
      // when they did not (a 0-second call was not answered). start_time and duration_seconds of a
      // sent call that has not finished are its creation time and 0, until its outcome is reported.
      await addColumns("call", [
        ["state", "varchar(16) not null default 'FINISHED'"],
        ["inbound", "integer not null default 0"],
        ["batch_id", "bigint"],
        ["script", "text"],
        ["attributes", "text"],
        ["labels", "text"],
        ["final_result", "varchar(24)"],
        ["finish_time", "bigint"],
        ["caller_name", "varchar(255)"],
        ["modified", "bigint not null default 0"],
      ]);
      await sql`update "call" set modified = created, finish_time = start_time + duration_seconds * 1000,
        final_result = case when duration_seconds > 0 then 'LA' else 'NO_ANS' end`.execute(db);
      await db.schema.dropIndex("call_account").execute();
      await listIndexes(db, "call");

      await db.schema
        .createTable("call_label")
        .addColumn("call_id", "bigint", (c) => c.notNull().references("call.id").onDelete("cascade"))
        .addColumn("label", "varchar(255)", (c) => c.notNull())
        .addColumn("account_id", "bigint", (c) => c.notNull())
        .addColumn("created", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("call_label_pk", ["call_id", "label"])
        .execute();
      await db.schema.createIndex("call_label_account").on("call_label").columns(["account_id", "label", "created", "call_id"]).execute();

      await withId(db.schema.createTable("text"), dialect)
        .addColumn("account_id", "bigint", (c) => c.notNull().references("account.id").onDelete("cascade"))
        .addColumn("from_number", "varchar(16)", (c) => c.notNull())
        .addColumn("to_number", "varchar(16)", (c) => c.notNull())
        .addColumn("inbound", "integer", (c) => c.notNull())
        .addColumn("state", "varchar(16)", (c) => c.notNull())
        .addColumn("batch_id", "bigint")
        .addColumn("campaign_id", "bigint")
        .addColumn("message", "text")
        .addColumn("segments", "integer", (c) => c.notNull())
        .addColumn("attributes", "text")
        .addColumn("labels", "text")
        .addColumn("final_result", "varchar(24)")
        .addColumn("finish_time", "bigint")
        .addColumn("external_id", "varchar(255)")
        .addColumn("created", "bigint", (c) => c.notNull())
        .addColumn("modified", "bigint", (c) => c.notNull())
        .addUniqueConstraint("text_account_external_id", ["account_id", "external_id"])
        .execute();
      await listIndexes(db, "text");

      await db.schema
        .createTable("text_media")
        .addColumn("text_id", "bigint", (c) => c.notNull().references("text.id").onDelete("cascade"))
        .addColumn("position", "integer", (c) => c.notNull())
        .addColumn("media_id", "bigint", (c) => c.notNull().references("media.id").onDelete("cascade"))
        .addPrimaryKeyConstraint("text_media_pk", ["text_id", "position"])
        .execute();

      await db.schema
        .createTable("text_label")
        .addColumn("text_id", "bigint", (c) => c.notNull().references("text.id").onDelete("cascade"))
        .addColumn("label", "varchar(255)", (c) => c.notNull())
        .addColumn("account_id", "bigint", (c) => c.notNull())
        .addColumn("created", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("text_label_pk", ["text_id", "label"])
        .execute();
      await db.schema.createIndex("text_label_account").on("text_label").columns(["account_id", "label", "created", "text_id"]).execute();

      // A text's charge points at it as a call's does (SQLite cannot add a UNIQUE column).
      await sql.raw(`alter table usage_charge add column text_id bigint references "text"(id) on delete cascade`).execute(db);
      await db.schema.createIndex("usage_charge_text").on("usage_charge").column("text_id").unique().execute();

      // The outbox carries verification calls, calls, texts and the simulator's pending outcomes.
      // One delivery per (type, action): a call is never queued twice.
      await addColumns("call_outbox", [
        ["type", "varchar(24) not null default 'callerIdVerification'"],
        ["action_id", "bigint"],
        ["payload", "text"],
      ]);
      await db.schema.createIndex("call_outbox_action").on("call_outbox").columns(["type", "action_id"]).unique().execute();
      // The hourly verification throttle counts one account's verification calls only.
      await db.schema.dropIndex("call_outbox_account").execute();
      await db.schema.createIndex("call_outbox_account").on("call_outbox").columns(["account_id", "type", "created"]).execute();

      // Idempotency-Key of sendCalls/sendTexts: the first response, kept 24 hours.
      await db.schema
        .createTable("idempotency_key")
        .addColumn("account_id", "bigint", (c) => c.notNull().references("account.id").onDelete("cascade"))
        .addColumn("operation", "varchar(16)", (c) => c.notNull())
        .addColumn("key", "varchar(255)", (c) => c.notNull())
        .addColumn("request_digest", "char(64)", (c) => c.notNull())
        .addColumn("response", "text", (c) => c.notNull())
        .addColumn("created", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("idempotency_key_pk", ["account_id", "operation", "key"])
        .execute();
      await db.schema.createIndex("idempotency_key_created").on("idempotency_key").column("created").execute();
    },
  };
}

/** The indexes of findCalls / findTexts: one per filter, each ending in the list's order. */
async function listIndexes(db: Kysely<unknown>, table: "call" | "text"): Promise<void> {
  const filters: Array<[string, string[]]> = [
    ["created", []],
    ["batch", ["batch_id"]],
    ["campaign", ["campaign_id"]],
    ["to", ["to_number"]],
    ["from", ["from_number"]],
    ["state", ["state"]],
    ["result", ["final_result"]],
    ["inbound", ["inbound"]],
  ];
  for (const [name, columns] of filters) {
    await db.schema
      .createIndex(`${table}_account_${name}`)
      .on(table)
      .columns(["account_id", ...columns, "created", "id"])
      .execute();
  }
}
