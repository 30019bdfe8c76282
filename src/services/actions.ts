import { sql, type Kysely, type RawBuilder, type SelectQueryBuilder } from "kysely";
import type { Tables } from "../db/tables.js";
import { BadRequest } from "../errors.js";

// What calls and texts share: CallFire calls both "actions", with the same states, batches,
// campaigns, labels and list filters.

export { actionStates, callResults, textResults, voices, type CallResult, type TextResult, type Voice } from "../common/action-names.js";

/** At most this many recipients per sendCalls or sendTexts request. */
export const maxRecipients = 1_000;
export const maxLabels = 20;

/** findCalls / findTexts filters, as the operations name them. */
export interface ActionFilter {
  id?: number[];
  /** 0: the ones sent without a campaign ("Use id=0 for the campaignId parameter to query for all calls sent through the POST /calls API"). */
  campaignId?: number;
  batchId?: number;
  fromNumber?: string;
  toNumber?: string;
  label?: string;
  states?: string[];
  results?: string[];
  inbound?: boolean;
  /** On `created`: [intervalBegin, intervalEnd]. */
  intervalBegin?: number;
  intervalEnd?: number;
}

/** A comma list of enum values (`states=READY,FINISHED`), each checked. */
export function parseEnumList(text: string | undefined, allowed: readonly string[], name: string): string[] | undefined {
  if (text === undefined) return undefined;
  const values = text.split(",").map((value) => value.trim()).filter((value) => value !== "");
  for (const value of values) {
    if (!allowed.includes(value)) throw new BadRequest(`${name}: "${value}" is not one of ${allowed.join(", ")}`);
  }
  return values.length > 0 ? values : undefined;
}

export function parseLabels(labels: string[] | undefined, name: string): string[] {
  const unique = [...new Set(labels ?? [])];
  if (unique.length > maxLabels) throw new BadRequest(`${name}: at most ${maxLabels} labels`);
  for (const label of unique) {
    if (label.length < 1 || label.length > 255) throw new BadRequest(`${name}: each label must be 1 to 255 characters`);
  }
  return unique;
}

export function jsonOrNull(value: object | undefined): string | null {
  return value === undefined || (Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0) ? null : JSON.stringify(value);
}

export function parsedJson<T>(text: string | null): T | undefined {
  return text === null ? undefined : (JSON.parse(text) as T);
}

type ActionTable = "call" | "text";

/** A list query, its order (newest first, `created desc, id desc`), and what its count reads. */
export interface ActionList<T extends ActionTable> {
  query: SelectQueryBuilder<Tables, T, object>;
  newestFirst: [RawBuilder<number>, RawBuilder<number>];
  /** The matches, for counting: a label alone is counted on the label index, without a row lookup per match. */
  counted: SelectQueryBuilder<Tables, keyof Tables, object>;
}

/**
 * The filtered list of one account's calls or texts. Every filter has an index of its own that
 * ends in the list's order (src/db/migrations/0006-calls-and-texts.ts). A label filter starts
 * from the label table, whose index is in the same order (it copies `created`), so a page reads
 * only its rows however many the label has.
 */
export function filteredActions<T extends ActionTable>(db: Kysely<Tables>, table: T, accountId: number, filter: ActionFilter): ActionList<T> {
  // Qualified: the lists join the usage ledger, which has columns of the same names.
  const column = (name: string) => sql.ref<number | string | null>(`${table}.${name}`);
  let query = db.selectFrom(table as "call");
  let newestFirst: ActionList<T>["newestFirst"] = [sql.ref<number>(`${table}.created`), sql.ref<number>(`${table}.id`)];
  if (filter.label !== undefined) {
    const labels = table === "call" ? "call_label" : "text_label";
    const key = table === "call" ? "call_id" : "text_id";
    query = query
      .innerJoin(labels as "call_label", (join) => join.on(sql.ref(`${labels}.${key}`), "=", sql.ref(`${table}.id`)))
      .where(sql.ref(`${labels}.account_id`), "=", accountId)
      .where(sql.ref(`${labels}.label`), "=", filter.label) as unknown as typeof query;
    newestFirst = [sql.ref<number>(`${labels}.created`), sql.ref<number>(`${labels}.${key}`)];
  }
  query = query.where(column("account_id"), "=", accountId);
  if (filter.id !== undefined) query = query.where(column("id"), "in", filter.id);
  if (filter.campaignId === 0) query = query.where(column("campaign_id"), "is", null);
  else if (filter.campaignId !== undefined) query = query.where(column("campaign_id"), "=", filter.campaignId);
  if (filter.batchId !== undefined) query = query.where(column("batch_id"), "=", filter.batchId);
  if (filter.fromNumber !== undefined) query = query.where(column("from_number"), "=", filter.fromNumber);
  if (filter.toNumber !== undefined) query = query.where(column("to_number"), "=", filter.toNumber);
  if (filter.states !== undefined) query = query.where(column("state"), "in", filter.states);
  if (filter.results !== undefined) query = query.where(column("final_result"), "in", filter.results);
  if (filter.inbound !== undefined) query = query.where(column("inbound"), "=", filter.inbound ? 1 : 0);
  if (filter.intervalBegin !== undefined) query = query.where(column("created"), ">=", filter.intervalBegin);
  if (filter.intervalEnd !== undefined) query = query.where(column("created"), "<=", filter.intervalEnd);
  const labelOnly = filter.label !== undefined && Object.entries(filter).every(([name, value]) => name === "label" || value === undefined);
  const counted = labelOnly
    ? db
        .selectFrom((table === "call" ? "call_label" : "text_label") as "call_label")
        .where("account_id", "=", accountId)
        .where("label", "=", filter.label!)
    : query;
  return {
    query: query as unknown as SelectQueryBuilder<Tables, T, object>,
    newestFirst,
    counted: counted as unknown as SelectQueryBuilder<Tables, keyof Tables, object>,
  };
}

/**
 * One page of a list, newest first, its rows as `columns` selects them. A filter on several states
 * or results is an IN over one index, whose matches the database would all read to sort them (a
 * million, for results=LA,AM); each value is instead its own index range, already newest first,
 * read only as far as the page reaches (offset + limit rows), and the ranges are merged.
 */
export function actionPage<T extends ActionTable, Row>(
  db: Kysely<Tables>,
  table: T,
  accountId: number,
  filter: ActionFilter,
  page: { limit: number; offset: number },
  columns: (query: SelectQueryBuilder<Tables, T, object>) => SelectQueryBuilder<Tables, T, Row>,
): SelectQueryBuilder<Tables, never, Row> {
  const newestPage = (part: ActionFilter, rows: number, offset: number) => {
    const { query, newestFirst } = filteredActions(db, table, accountId, part);
    return columns(query).orderBy(newestFirst[0], "desc").orderBy(newestFirst[1], "desc").limit(rows).offset(offset);
  };
  const split = (["states", "results"] as const).find((name) => (filter[name]?.length ?? 0) > 1);
  if (split === undefined) return newestPage(filter, page.limit, page.offset) as unknown as SelectQueryBuilder<Tables, never, Row>;
  // A label's order is its own copy of created and the id: the same values, under the same names here.
  const ranges = filter[split]!.map((value) =>
    db.selectFrom(newestPage({ ...filter, [split]: [value] }, page.offset + page.limit, 0).as("range")).selectAll(),
  );
  const merged = ranges.reduce((all, range) => all.unionAll(range as typeof all));
  return db
    .selectFrom(merged.as("merged"))
    .selectAll()
    .orderBy(sql.ref("created"), "desc")
    .orderBy(sql.ref("id"), "desc")
    .limit(page.limit)
    .offset(page.offset) as unknown as SelectQueryBuilder<Tables, never, Row>;
}
