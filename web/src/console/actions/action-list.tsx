import type { ComponentChildren, InputHTMLAttributes } from "preact";
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
  /** What a call's or text's details show, once getCall / getText has read it. */
  details: (item: T) => ComponentChildren;
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
            <ActionItem<T> key={item.id} kind={kind} item={item} result={resultOf(item)} summary={summaryOf?.(item)} details={details} />
          ))}
        </ul>
      )}
      {list.data && <Pager label={`${Noun} pages`} offset={offset} limit={pageSize} total={list.data.totalCount} shown={list.data.items.length} onOffset={setOffset} />}
    </section>
  );
}

/** The filters typed in: numbers, a batch and a creation interval (the browser's time zone, to the minute). */
const inputs: Array<{ name: keyof Filters; label: string; attributes: InputHTMLAttributes<HTMLInputElement> }> = [
  { name: "toNumber", label: "To number", attributes: { type: "tel", inputMode: "tel" } },
  { name: "fromNumber", label: "From number", attributes: { type: "tel", inputMode: "tel" } },
  { name: "batchId", label: "Batch id", attributes: { type: "text", inputMode: "numeric" } },
  { name: "createdFrom", label: "Created from", attributes: { type: "datetime-local" } },
  { name: "createdUntil", label: "Created until", attributes: { type: "datetime-local" } },
];

function FilterForm({ kind, results, busy, error, onApply }: { kind: string; results: readonly string[]; busy: boolean; error?: string; onApply: (filters: Filters) => void }) {
  const [draft, setDraft] = useState<Filters>(noFilters);
  const errorId = `${kind}-filter-error`;
  const field = fieldOfError(error, parameters);
  const control = (name: keyof Filters) => ({
    id: `${kind}-filter-${name}`,
    value: draft[name],
    ...invalidIf(field === parameterOf[name], errorId),
  });
  const set = (name: keyof Filters) => (event: { currentTarget: { value: string } }) => setDraft({ ...draft, [name]: event.currentTarget.value });
  /** A filter's label, its control, and the error when it names this filter. */
  const filter = (name: keyof Filters, label: string, input: ComponentChildren) => (
    <div class="field" key={name}>
      <label for={`${kind}-filter-${name}`}>{label}</label>
      {input}
      {field === parameterOf[name] && <ErrorText id={errorId} error={error} />}
    </div>
  );
  const choices = (name: "state" | "result", label: string, any: string, values: readonly string[]) =>
    filter(
      name,
      label,
      <select {...control(name)} onChange={set(name)}>
        <option value="">{any}</option>
        {values.map((value) => (
          <option key={value} value={value}>
            {describe(value)}
          </option>
        ))}
      </select>,
    );

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
        {choices("state", "State", "Any state", actionStates)}
        {choices("result", "Result", "Any result", results)}
        {inputs.map(({ name, label, attributes }) => filter(name, label, <input {...attributes} {...control(name)} onInput={set(name)} />))}
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
      {field === undefined && <ErrorText id={errorId} error={error} />}
    </form>
  );
}

function ActionItem<T extends Call | Text>({ kind, item, result, summary, details }: { kind: string; item: T; result?: string; summary?: string; details: (item: T) => ComponentChildren }) {
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
        {open && <ActionDetails<T> kind={kind} id={item.id} details={details} />}
      </div>
    </li>
  );
}

/** getCall or getText, read when an item's details are opened. */
function ActionDetails<T>({ kind, id, details }: { kind: string; id: number; details: (item: T) => ComponentChildren }) {
  const item = useResource(() => get<T>(`/v2/${kind}s/${id}`), [kind, id]);
  return (
    <>
      {item.loading && <Loading label={`Reading ${kind} ${id}…`} />}
      <ErrorText error={item.error && `Could not read ${kind} ${id}: ${item.error}`} />
      {item.data && details(item.data)}
    </>
  );
}
