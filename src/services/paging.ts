import type { SelectQueryBuilder } from "kysely";

export interface PageRequest {
  limit: number;
  offset: number;
}

/** CallFire's page wrapper: always all four keys. */
export interface Page<T> {
  items: T[];
  limit: number;
  offset: number;
  totalCount: number;
}

/**
 * One page of a filtered query and the filter's total count. `select` adds the columns and the
 * (stable) order to the filtered query; `toItem` turns a row into what the API returns.
 */
export async function findPage<DB, TB extends keyof DB, Row, Item>(
  filtered: SelectQueryBuilder<DB, TB, object>,
  page: PageRequest,
  select: (query: SelectQueryBuilder<DB, TB, object>) => SelectQueryBuilder<DB, TB, Row>,
  toItem: (row: Row) => Item,
): Promise<Page<Item>> {
  const [rows, count] = await Promise.all([
    select(filtered).limit(page.limit).offset(page.offset).execute(),
    filtered.select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow() as Promise<{ n: number | string }>,
  ]);
  return { items: (rows as Row[]).map(toItem), limit: page.limit, offset: page.offset, totalCount: Number(count.n) };
}
