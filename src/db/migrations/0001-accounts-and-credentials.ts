import type { Kysely } from "kysely";
import { withId, type Dialect } from "./columns.js";

export function accountsAndCredentials(dialect: Dialect) {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await withId(db.schema.createTable("account"), dialect)
        .addColumn("email", "varchar(320)", (c) => c.notNull().unique())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("name", "text")
        .addColumn("first_name", "text")
        .addColumn("last_name", "text")
        .addColumn("created", "bigint", (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable("api_credential"), dialect)
        .addColumn("account_id", "bigint", (c) => c.notNull().references("account.id").onDelete("cascade"))
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addColumn("username", "varchar(64)", (c) => c.notNull().unique())
        .addColumn("password_digest", "char(64)", (c) => c.notNull())
        .addColumn("password_tail", "varchar(8)", (c) => c.notNull())
        .addColumn("enabled", "integer", (c) => c.notNull())
        .addColumn("created", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("api_credential_account").on("api_credential").columns(["account_id", "id"]).execute();

      await withId(db.schema.createTable("login_failure"), dialect)
        .addColumn("username", "varchar(320)", (c) => c.notNull())
        .addColumn("failed_at", "bigint", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("login_failure_username").on("login_failure").columns(["username", "failed_at"]).execute();
    },
  };
}
