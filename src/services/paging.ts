import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from "kysely";
import type { Tables } from "../db/tables.js";

export interface PageRequest {
  limit: number;
  offset: number;
}

/** CallFire's page wrapper: always all four keys. */
export interface Page<T> {
  items: T[];
  limit: number;
  offset: number;
  /** -1 past `countLimit` matches: CallFire's "Total count of available results. -1 if unknown". */
  totalCount: number;
}

/**
 * How many matches a page counts at most. Counting every match costs as much as reading them all
 * (a findCalls over a million calls took longer to count than to answer), and CallFire's page
 * says "-1 if unknown": beyond this many, that is what totalCount says. Measured in
 * bench/calls.ts: counting 10,000 index entries stays within a few milliseconds on both dialects.
 */
export const countLimit = 10_000;

/**
 * One page of a filtered query and the filter's total count (up to `countLimit`). `select` adds
 * the columns and the (stable) order to the filtered query; `toItem` turns a row into what the
 * API returns. A page shorter than its limit tells the count without counting.
 */
export async function findPage<DB, TB extends keyof DB, Row, Item>(
  db: Kysely<DB>,
  filtered: SelectQueryBuilder<DB, TB, object>,
  page: PageRequest,
  select: (query: SelectQueryBuilder<DB, TB, object>) => SelectQueryBuilder<DB, TB, Row>,
  toItem: (row: Row) => Item,
): Promise<Page<Item>> {
  const rows = (await select(filtered).limit(page.limit).offset(page.offset).execute()) as Row[];
  const totalCount =
    rows.length < page.limit && (rows.length > 0 || page.offset === 0) ? page.offset + rows.length : await boundedCount(db, filtered);
  return { items: rows.map(toItem), limit: page.limit, offset: page.offset, totalCount };
}

/** The number of matches, or -1 if there are more than `countLimit`. */
export async function boundedCount<DB, TB extends keyof DB>(db: Kysely<DB>, filtered: SelectQueryBuilder<DB, TB, object>): Promise<number> {
  const { rows } = await boundedCountQuery(filtered).execute(db);
  const n = Number(rows[0]!.n);
  return n > countLimit ? -1 : n;
}

/** Counts at most `countLimit` + 1 matches: reading that many index entries bounds the cost. */
export function boundedCountQuery<DB, TB extends keyof DB>(filtered: SelectQueryBuilder<DB, TB, object>) {
  const matching = filtered.select(sql.lit(1).as("one")).limit(countLimit + 1);
  return sql<{ n: number | string }>`select count(*) as n from (${matching}) as matching`;
}

/**
 * findPage for a list of one table's rows in id order, read as a "deferred join": the page's ids
 * come from the filter's (account_id, id) index alone, then only those rows by primary key. Asked
 * for whole rows in id order, PostgreSQL instead walks the primary key and filters by account,
 * which for a large account whose rows sit late in the table reads every row before them
 * (bench/growth.ts: 140 ms a page at 100k media among 1M). The ids alone it reads from the index.
 */
export async function findPageOfIds<TB extends "media" | "api_credential", Item>(
  db: Kysely<Tables>,
  table: TB,
  filtered: SelectQueryBuilder<Tables, TB, object>,
  page: PageRequest,
  toItem: (row: Selectable<Tables[TB]>) => Item,
): Promise<Page<Item>> {
  const rows = (await pageOfIdsQuery(db, table, filtered, page).execute()) as unknown as Selectable<Tables[TB]>[];
  const totalCount =
    rows.length < page.limit && (rows.length > 0 || page.offset === 0) ? page.offset + rows.length : await boundedCount(db, filtered);
  return { items: rows.map(toItem), limit: page.limit, offset: page.offset, totalCount };
}

/** findPageOfIds' page: the rows whose ids one index range gives. */
export function pageOfIdsQuery<TB extends "media" | "api_credential">(db: Kysely<Tables>, table: TB, filtered: SelectQueryBuilder<Tables, TB, object>, page: PageRequest) {
  const ids = filtered.select(sql.ref<number>(`${table}.id`).as("id")).orderBy(sql.ref(`${table}.id`)).limit(page.limit).offset(page.offset);
  return (db.selectFrom(table) as unknown as SelectQueryBuilder<Tables, TB, object>)
    .selectAll()
    .where(sql.ref(`${table}.id`), "in", ids)
    .orderBy(sql.ref(`${table}.id`));
}
