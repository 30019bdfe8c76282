import type { Kysely } from "kysely";
import { withId, type Dialect } from "./columns.js";

export function media(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await withId(db.schema.createTable("media"), dialect)
        .addColumn("account_id", "bigint", (c) => c.notNull().references("account.id").onDelete("cascade"))
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("created", "bigint", (c) => c.notNull())
        .addColumn("format", "varchar(8)", (c) => c.notNull())
        .addColumn("length_in_bytes", "bigint", (c) => c.notNull())
        .addColumn("sha256", "char(64)", (c) => c.notNull())
        .addColumn("blob_key", "varchar(512)", (c) => c.notNull())
        .addColumn("public_key", "varchar(64)", (c) => c.notNull().unique())
        .addColumn("duration_ms", "bigint")
        // The same bytes twice in one account is CallFire's "… mediaId: <id>" error.
        .addUniqueConstraint("media_account_sha256", ["account_id", "sha256"])
        .execute();
      await db.schema.createIndex("media_account").on("media").columns(["account_id", "id"]).execute();

      await db.schema
        .createTable("media_rendition")
        .addColumn("media_id", "bigint", (c) => c.notNull().references("media.id").onDelete("cascade"))
        .addColumn("format", "varchar(8)", (c) => c.notNull())
        .addColumn("blob_key", "varchar(512)", (c) => c.notNull())
        .addColumn("length_in_bytes", "bigint", (c) => c.notNull())
        .addColumn("sha256", "char(64)", (c) => c.notNull())
        .addPrimaryKeyConstraint("media_rendition_pk", ["media_id", "format"])
        .execute();
    },
  };
}
