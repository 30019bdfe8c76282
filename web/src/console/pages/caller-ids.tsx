import { useState } from "preact/hooks";
import { get, post } from "../api.js";
import { BusyButton, ErrorText, Loading } from "../components.js";
import { formatDateTime } from "../format.js";
import { useAction, useResource } from "../hooks.js";
import { PageFrame } from "../page-frame.js";
import { useSessionInfo } from "../session.js";

export function CallerIds() {
  const { sandbox } = useSessionInfo();
  const verified = useResource(() => get<{ items?: Array<{ phoneNumber: string }> }>("/v2/me/callerids"), []);
  const [number, setNumber] = useState("");
  /** The number a code was sent to, as it was typed: the API takes it in any of its forms. */
  const [pending, setPending] = useState<string>();
  const [code, setCode] = useState("");
  const [done, setDone] = useState<string>();

  const send = useAction(async () => {
    const to = number.trim();
    await post(`/v2/me/callerids/${encodeURIComponent(to)}`);
    setPending(to);
    setCode("");
    setDone(undefined);
    verify.setError(undefined);
  });
  const verify = useAction(async () => {
    const ok = await post<boolean>(`/v2/me/callerids/${encodeURIComponent(pending!)}/verification-code`, { verificationCode: code.trim() });
    if (!ok) throw new Error("That is not the code the call said. Check it and try again; after 5 wrong codes, send a new one.");
    setDone(`${pending} is verified: it can be used as a caller ID.`);
    setPending(undefined);
    setNumber("");
    verified.reload();
  });

  return (
    <PageFrame title="Caller IDs" intro="A number is a caller ID of this account once it is verified: Switchboard calls it and speaks a code, which you enter here.">
      <div class="grid">
        <section class="card" aria-labelledby="verify-title">
          <h2 id="verify-title">Verify a number</h2>
          <form
            onSubmit={(event) => {
              event.preventDefault();
              void send.run();
            }}
          >
            <div class="field">
              <label for="caller-id-number">Phone number</label>
              <input
                id="caller-id-number"
                type="tel"
                inputMode="tel"
                autocomplete="tel"
                required
                placeholder="+12135551189"
                value={number}
                aria-invalid={send.error ? true : undefined}
                aria-describedby={send.error ? "caller-id-hint send-error" : "caller-id-hint"}
                onInput={(event) => setNumber(event.currentTarget.value)}
              />
              <p id="caller-id-hint" class="muted">
                E.164 with or without +, or a 10-digit North American number.
              </p>
            </div>
            <BusyButton type="submit" busy={send.busy} busyLabel="Queuing the call…">
              Send verification code
            </BusyButton>
            <ErrorText id="send-error" error={send.error} />
          </form>

          {pending && (
            <form
              class="code-form"
              onSubmit={(event) => {
                event.preventDefault();
                void verify.run();
              }}
            >
              <p class="notice" role="status">
                A call to {pending} is queued. Enter the code it says.
              </p>
              {sandbox && <SandboxCode number={pending} />}
              <div class="field">
                <label for="verification-code">Verification code</label>
                <input
                  id="verification-code"
                  type="text"
                  inputMode="numeric"
                  autocomplete="one-time-code"
                  required
                  value={code}
                  aria-invalid={verify.error ? true : undefined}
                  aria-describedby={verify.error ? "verify-error" : undefined}
                  onInput={(event) => setCode(event.currentTarget.value)}
                />
              </div>
              <BusyButton type="submit" busy={verify.busy} busyLabel="Verifying…">
                Verify
              </BusyButton>
              <ErrorText id="verify-error" error={verify.error} />
            </form>
          )}
          {done && (
            <p class="notice" role="status">
              {done}
            </p>
          )}
        </section>

        <section class="card" aria-labelledby="verified-title">
          <h2 id="verified-title">Verified numbers</h2>
          {verified.loading && !verified.data && <Loading label="Loading the caller IDs…" />}
          <ErrorText error={verified.error} />
          {verified.data && (verified.data.items ?? []).length === 0 && <p class="muted">No verified numbers yet.</p>}
          {verified.data && (verified.data.items ?? []).length > 0 && (
            <ul class="items" aria-label="Verified caller IDs">
              {verified.data.items!.map(({ phoneNumber }) => (
                <li key={phoneNumber} class="mono">
                  {phoneNumber}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </PageFrame>
  );
}

/**
 * With no telephony platform connected, no phone rings: the console reads the code from the
 * verification call waiting in the outbox, for this account and number only.
 */
function SandboxCode({ number }: { number: string }) {
  const code = useResource(() => get<{ phoneNumber: string; verificationCode: string; expiresAt: number }>(`/console/api/callerids/${encodeURIComponent(number)}/sandbox-code`), [number]);
  return (
    <section class="warning sandbox" aria-labelledby="sandbox-title">
      <h3 id="sandbox-title">
        <span class="pill sandbox">Sandbox only</span> The code the call would say
      </h3>
      <p class="muted">No telephony platform is connected to this server, so no phone rings. With one, this code is never shown here.</p>
      {code.loading && !code.data && <Loading label="Reading the call…" />}
      {code.data && (
        <p>
          Code for {code.data.phoneNumber}: <strong class="mono sandbox-code">{code.data.verificationCode}</strong>{" "}
          <span class="muted">(works until {formatDateTime(code.data.expiresAt)})</span>
        </p>
      )}
      <ErrorText error={code.error} />
    </section>
  );
}
