import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { get, query } from "../api.js";
import { BusyButton, ErrorText, Loading, Pager } from "../components.js";
import { fieldOfError, invalidIf } from "../field-errors.js";
import { formatDateTime, formatTotal } from "../format.js";
import { useResource } from "../hooks.js";
import type { Call, Page, Text } from "../types.js";
import { actionStates, describe } from "./results.js";

// The list of calls (findCalls) or texts (findTexts), newest first, with CallFire's filters, paging
// and each item's details (getCall / getText) opened in place.

const pageSize = 20;

interface Filters {
  state: string;
  result: string;
  toNumber: string;
  fromNumber: string;
  batchId: string;
  /** datetime-local values, in the browser's time zone. */
  createdFrom: string;
  createdUntil: string;
}

const noFilters: Filters = { state: "", result: "", toNumber: "", fromNumber: "", batchId: "", createdFrom: "", createdUntil: "" };

/** The query parameters of findCalls / findTexts; the server checks every value and says what is wrong. */
function filterQuery(filters: Filters) {
  const time = (value: string) => (value === "" ? undefined : new Date(value).getTime());
  const until = time(filters.createdUntil);
  return {
    states: filters.state,
    results: filters.result,
    toNumber: filters.toNumber.trim(),
    fromNumber: filters.fromNumber.trim(),
    batchId: filters.batchId.trim(),
    intervalBegin: time(filters.createdFrom),
    // The inputs stop at minutes: "until 10:05" takes in the whole of 10:05.
    intervalEnd: until === undefined ? undefined : until + 59_999,
  };
}

/** The query parameter each filter control sets, as an ErrorMessage names it. */
const parameterOf = {
  state: "states",
  result: "results",
  toNumber: "toNumber",
  fromNumber: "fromNumber",
  batchId: "batchId",
  createdFrom: "intervalBegin",
  createdUntil: "intervalEnd",
} as const satisfies Record<keyof Filters, string>;
const parameters = Object.values(parameterOf);

export function ActionList<T extends Call | Text>({
  kind,
  results,
  generation,
  resultOf,
  summaryOf,
  details,
}: {
  kind: "call" | "text";
  results: readonly string[];
  /** Changes after the page sent something, so the list is read again. */
  generation: number;
  resultOf: (item: T) => string | undefined;
  summaryOf?: (item: T) => string | undefined;
  details: (id: number) => ComponentChildren;
}) {
  const [filters, setFilters] = useState<Filters>(noFilters);
  const [offset, setOffset] = useState(0);
  const list = useResource(() => get<Page<T>>(`/v2/${kind}s${query({ ...filterQuery(filters), limit: pageSize, offset })}`), [kind, filters, offset, generation]);
  const filtered = Object.values(filters).some((value) => value !== "");
  const Noun = kind === "call" ? "Call" : "Text";

  return (
    <section class="card" aria-labelledby={`${kind}-list-title`}>
      <h2 id={`${kind}-list-title`}>
        {Noun}s{list.data ? ` (${formatTotal(list.data.totalCount)}${filtered ? " matching" : ""})` : ""}
      </h2>
      <FilterForm
        kind={kind}
        results={results}
        busy={list.loading}
        error={list.error}
        onApply={(next) => {
          setOffset(0);
          setFilters(next);
        }}
      />
      {list.loading && !list.data && <Loading label={`Loading the ${kind}s…`} />}
      {list.data && list.data.items.length === 0 && (
        <p class="muted">{filtered ? `No ${kind}s match these filters.` : `No ${kind}s yet: send a test ${kind} above, or with POST /v2/${kind}s.`}</p>
      )}
      {list.data && list.data.items.length > 0 && (
        <ul class="items" aria-label={`${Noun}s`}>
          {list.data.items.map((item) => (
            <ActionItem key={item.id} kind={kind} item={item} result={resultOf(item)} summary={summaryOf?.(item)} details={details} />
          ))}
        </ul>
      )}
      {list.data && <Pager label={`${Noun} pages`} offset={offset} limit={pageSize} total={list.data.totalCount} shown={list.data.items.length} onOffset={setOffset} />}
    </section>
  );
}

function FilterForm({ kind, results, busy, error, onApply }: { kind: string; results: readonly string[]; busy: boolean; error?: string; onApply: (filters: Filters) => void }) {
  const [draft, setDraft] = useState<Filters>(noFilters);
  const set = (name: keyof Filters) => (event: { currentTarget: { value: string } }) => setDraft({ ...draft, [name]: event.currentTarget.value });
  const id = (name: keyof Filters) => `${kind}-filter-${name}`;
  const errorId = `${kind}-filter-error`;
  const field = fieldOfError(error, parameters);
  /** The error beside the control that caused it, or beside the buttons when it names none. */
  const errorAt = (name: keyof Filters | undefined) => (field === (name && parameterOf[name]) ? <ErrorText id={errorId} error={error} /> : null);
  const aria = (name: keyof Filters) => invalidIf(field === parameterOf[name], errorId);

  return (
    <form
      class="filters"
      aria-label={`Filter ${kind}s`}
      onSubmit={(event) => {
        event.preventDefault();
        onApply(draft);
      }}
    >
      <div class="filter-grid">
        <div class="field">
          <label for={id("state")}>State</label>
          <select id={id("state")} value={draft.state} onChange={set("state")} {...aria("state")}>
            <option value="">Any state</option>
            {actionStates.map((state) => (
              <option key={state} value={state}>
                {describe(state)}
              </option>
            ))}
          </select>
          {errorAt("state")}
        </div>
        <div class="field">
          <label for={id("result")}>Result</label>
          <select id={id("result")} value={draft.result} onChange={set("result")} {...aria("result")}>
            <option value="">Any result</option>
            {results.map((result) => (
              <option key={result} value={result}>
                {describe(result)}
              </option>
            ))}
          </select>
          {errorAt("result")}
        </div>
        <div class="field">
          <label for={id("toNumber")}>To number</label>
          <input id={id("toNumber")} type="tel" inputMode="tel" value={draft.toNumber} onInput={set("toNumber")} {...aria("toNumber")} />
          {errorAt("toNumber")}
        </div>
        <div class="field">
          <label for={id("fromNumber")}>From number</label>
          <input id={id("fromNumber")} type="tel" inputMode="tel" value={draft.fromNumber} onInput={set("fromNumber")} {...aria("fromNumber")} />
          {errorAt("fromNumber")}
        </div>
        <div class="field">
          <label for={id("batchId")}>Batch id</label>
          <input id={id("batchId")} type="text" inputMode="numeric" value={draft.batchId} onInput={set("batchId")} {...aria("batchId")} />
          {errorAt("batchId")}
        </div>
        <div class="field">
          <label for={id("createdFrom")}>Created from</label>
          <input id={id("createdFrom")} type="datetime-local" value={draft.createdFrom} onInput={set("createdFrom")} {...aria("createdFrom")} />
          {errorAt("createdFrom")}
        </div>
        <div class="field">
          <label for={id("createdUntil")}>Created until</label>
          <input id={id("createdUntil")} type="datetime-local" value={draft.createdUntil} onInput={set("createdUntil")} {...aria("createdUntil")} />
          {errorAt("createdUntil")}
        </div>
      </div>
      <div class="actions">
        <BusyButton type="submit" busy={busy} busyLabel="Finding…">
          Apply filters
        </BusyButton>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setDraft(noFilters);
            onApply(noFilters);
          }}
        >
          Clear filters
        </button>
      </div>
      {errorAt(undefined)}
    </form>
  );
}

function ActionItem({ kind, item, result, summary, details }: { kind: string; item: Call | Text; result?: string; summary?: string; details: (id: number) => ComponentChildren }) {
  const [open, setOpen] = useState(false);
  const noun = `${kind === "call" ? "Call" : "Text"} ${item.id}`;
  const titleId = `${kind}-${item.id}-title`;
  const detailsId = `${kind}-${item.id}-details`;
  return (
    <li aria-labelledby={titleId}>
      <div class="item-head">
        <h3 id={titleId}>{item.inbound ? `${noun} from ${item.fromNumber}` : `${noun} to ${item.toNumber}`}</h3>
        <span class="inline">
          <span class={`pill state ${(item.state ?? "").toLowerCase()}`}>{item.state}</span>
          {result && <span class="pill result">{result}</span>}
        </span>
      </div>
      <p class="muted">
        {[item.inbound ? `to ${item.toNumber}` : `from ${item.fromNumber}`, item.created && formatDateTime(item.created), item.batchId && `batch ${item.batchId}`, item.inbound && "inbound"]
          .filter(Boolean)
          .join(" · ")}
      </p>
      {summary && <p class="summary">{summary}</p>}
      <button type="button" class="secondary" aria-expanded={open} aria-controls={detailsId} aria-label={`${open ? "Hide" : "Show"} details of ${noun.toLowerCase()}`} onClick={() => setOpen(!open)}>
        {open ? "Hide details" : "Show details"}
      </button>
      <div id={detailsId} hidden={!open}>
        {open && details(item.id)}
      </div>
    </li>
  );
}
