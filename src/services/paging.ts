import { sql, type Kysely, type SelectQueryBuilder } from "kysely";

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
