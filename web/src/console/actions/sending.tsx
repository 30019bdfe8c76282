import type { ComponentChildren } from "preact";
import { useRef, useState } from "preact/hooks";
import { get } from "../api.js";
import { BusyButton, ErrorText, Loading } from "../components.js";
import { invalidIf } from "../field-errors.js";
import { useResource } from "../hooks.js";

// What the "send a test call" and "send a test text" forms share: the caller ID it is sent from,
// the number it goes to, and the Idempotency-Key that makes a retry of the same send safe.

/** Who a test send is from and to: one of the account's verified caller IDs (getCallerIds; the first unless another is chosen), and a number. */
export function useSender() {
  const callerIds = useResource(async () => (await get<{ items?: Array<{ phoneNumber: string }> }>("/v2/me/callerids")).items?.map((item) => item.phoneNumber) ?? [], []);
  const [chosen, setFrom] = useState("");
  const [to, setTo] = useState("");
  return { callerIds, from: chosen || callerIds.data?.[0], setFrom, to, setTo, canSend: (callerIds.data?.length ?? 0) > 0 };
}

type Sender = ReturnType<typeof useSender>;

/**
 * A "send a test call / text" card: From and To, the page's own fields (`children`), and the
 * send button, with the error of a send that names none of the fields under it.
 */
export function SendForm({
  kind,
  send,
  sender,
  field,
  sandboxNumbers,
  ready = true,
  children,
}: {
  kind: "call" | "text";
  send: { run: () => Promise<unknown>; busy: boolean; error?: string };
  sender: Sender;
  /** The recipient field the send's error names, if any. */
  field?: string;
  sandboxNumbers?: Array<[string, string]>;
  /** The page's own fields make a sendable request. */
  ready?: boolean;
  children: ComponentChildren;
}) {
  const errorId = `test-${kind}-error`;
  return (
    <section class="card" aria-labelledby={`test-${kind}-title`}>
      <h2 id={`test-${kind}-title`}>Send a test {kind}</h2>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void send.run();
        }}
      >
        <SenderFields kind={kind} sender={sender} field={field} error={send.error} errorId={errorId} sandboxNumbers={sandboxNumbers} />
        {children}
        <BusyButton type="submit" busy={send.busy} busyLabel="Sending…" disabled={!sender.canSend || !ready}>
          Send test {kind}
        </BusyButton>
        {field === undefined && <ErrorText id={errorId} error={send.error} />}
      </form>
    </section>
  );
}

/**
 * The From and To fields, the error of either, and in the sandbox how the simulator ends a call
 * or text by its number. `field` is the recipient field the send's error names, if any.
 */
function SenderFields({
  kind,
  sender,
  field,
  error,
  errorId,
  sandboxNumbers,
}: {
  kind: "call" | "text";
  sender: Sender;
  field?: string;
  error?: string;
  errorId: string;
  sandboxNumbers?: Array<[string, string]>;
}) {
  return (
    <>
      <div class="row fields">
        <CallerIdSelect id={`test-${kind}-from`} callerIds={sender.callerIds} value={sender.from ?? ""} invalid={field === "fromNumber"} errorId={errorId} onChange={sender.setFrom} />
        <RecipientNumber id={`test-${kind}-to`} value={sender.to} invalid={field === "phoneNumber"} errorId={errorId} onChange={sender.setTo} />
      </div>
      {(field === "fromNumber" || field === "phoneNumber") && <ErrorText id={errorId} error={error} />}
      {sandboxNumbers && <SandboxNumbers rows={sandboxNumbers} />}
    </>
  );
}

function CallerIdSelect({
  id,
  callerIds,
  value,
  invalid,
  errorId,
  onChange,
}: {
  id: string;
  callerIds: Sender["callerIds"];
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
function RecipientNumber({
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

function SandboxNumbers({ rows }: { rows: Array<[string, string]> }) {
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
