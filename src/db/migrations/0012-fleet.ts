import type { Kysely } from "kysely";

/**
 * The operator's admin token as every node of a PostgreSQL fleet shares it: one row (id 1), the
 * SHA-256 of the token (32 random bytes, so a fast digest is enough), made by the first node to
 * start and replaced by `switchboard admin-token rotate`. SQLite keeps the token in the data
 * directory's `admin-token` file as before; the table exists there too but stays empty.
 */
export const fleet = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable("admin_token")
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("digest", "text", (c) => c.notNull())
      .addColumn("created", "bigint", (c) => c.notNull())
      .execute();
  },
};
