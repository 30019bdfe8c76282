import { useRef } from "preact/hooks";
import { get } from "../api.js";
import { ErrorText, Loading } from "../components.js";
import { invalidIf } from "../field-errors.js";
import { useResource } from "../hooks.js";

// What the "send a test call" and "send a test text" forms share: the caller ID it is sent from,
// the number it goes to, and the Idempotency-Key that makes a retry of the same send safe.

/** The account's verified caller IDs (getCallerIds), for the From select. */
export function useCallerIds() {
  return useResource(async () => (await get<{ items?: Array<{ phoneNumber: string }> }>("/v2/me/callerids")).items?.map((item) => item.phoneNumber) ?? [], []);
}

export function CallerIdSelect({
  id,
  callerIds,
  value,
  invalid,
  errorId,
  onChange,
}: {
  id: string;
  callerIds: ReturnType<typeof useCallerIds>;
  value: string;
  invalid: boolean;
  errorId: string;
  onChange: (value: string) => void;
}) {
  if (!callerIds.data) {
    return (
      <div class="field">
        {callerIds.loading && <Loading label="Loading the caller IDs…" />}
        <ErrorText error={callerIds.error && `Could not read the caller IDs: ${callerIds.error}`} />
      </div>
    );
  }
  if (callerIds.data.length === 0) {
    return (
      <p class="warning" id={id}>
        Sending needs a verified caller ID, and this account has none yet: <a href="/console/caller-ids">verify a number on the Caller IDs page</a>.
      </p>
    );
  }
  return (
    <div class="field">
      <label for={id}>From (a verified caller ID)</label>
      <select id={id} value={value} onChange={(event) => onChange(event.currentTarget.value)} {...invalidIf(invalid, errorId)}>
        {callerIds.data.map((number) => (
          <option key={number} value={number}>
            {number}
          </option>
        ))}
      </select>
    </div>
  );
}

/** The number to send to. */
export function RecipientNumber({
  id,
  value,
  invalid,
  errorId,
  onChange,
}: {
  id: string;
  value: string;
  invalid: boolean;
  errorId: string;
  onChange: (value: string) => void;
}) {
  const hintId = `${id}-hint`;
  return (
    <div class="field">
      <label for={id}>To</label>
      <input
        id={id}
        type="tel"
        inputMode="tel"
        required
        placeholder="+12135550100"
        value={value}
        onInput={(event) => onChange(event.currentTarget.value)}
        {...invalidIf(invalid, errorId, hintId)}
      />
      <p id={hintId} class="muted">
        E.164 with or without +, or a 10-digit North American number.
      </p>
    </div>
  );
}

/** In the sandbox: how the simulator ends a call or text, by the number it goes to. */
export function SandboxNumbers({ rows }: { rows: Array<[string, string]> }) {
  return (
    <table class="sandbox-numbers">
      <caption>
        <span class="pill sandbox">Sandbox</span> The simulator decides the outcome by the number's end:
      </caption>
      <thead>
        <tr>
          <th scope="col">number ends in</th>
          <th scope="col">outcome</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([ending, outcome]) => (
          <tr key={ending}>
            <td class={ending.startsWith("…") ? "mono" : undefined}>{ending}</td>
            <td>{outcome}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The Idempotency-Key of a send form: one key for every attempt at the same request (a double
 * click, a retry after the answer was lost), so the server creates it once; a new key once it was
 * created, or when the request changes (the same key with another request is a 409).
 */
export function useIdempotencyKey() {
  const current = useRef<{ request: string; key: string } | undefined>(undefined);
  return {
    keyFor(request: unknown): string {
      const text = JSON.stringify(request);
      if (current.current?.request !== text) current.current = { request: text, key: newKey() };
      return current.current.key;
    },
    sent(): void {
      current.current = undefined;
    },
  };
}

// crypto.randomUUID exists only on secure pages (https, localhost); getRandomValues everywhere.
function newKey(): string {
  return `console-${Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, "0")).join("")}`;
}
