import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { get } from "../api.js";
import { ErrorText } from "../components.js";
import { actionStates, describe, meaningOf } from "./results.js";

// A call or text just sent, watched as it goes READY → SELECTED → FINISHED: getCall / getText
// once a second, for a bounded time. In the sandbox the simulator finishes it within seconds (its
// delay, or the length of the sound played); a real platform may take minutes, or never report.

const pollMs = 1_000;
const watchMs = 3 * 60_000;

export interface Watch<T> {
  item?: T;
  error?: string;
  watching: boolean;
  /** The bound passed before it was done. */
  gaveUp: boolean;
  seconds: number;
  again: () => void;
}

/** Reads `path` until `done` says so (or the bound passes); `onFinished` once it is FINISHED. */
export function useWatch<T extends { state?: string }>(path: string, done: (item: T) => boolean, onFinished: () => void): Watch<T> {
  const [state, setState] = useState<Omit<Watch<T>, "again">>({ watching: true, gaveUp: false, seconds: 0 });
  const [round, setRound] = useState(0);
  const isDone = useRef(done);
  isDone.current = done;

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = Date.now();
    setState((previous) => ({ item: previous.item, watching: true, gaveUp: false, seconds: 0 }));
    const poll = async () => {
      try {
        const item = await get<T>(path);
        if (stopped) return;
        const elapsed = Date.now() - started;
        const finished = isDone.current(item);
        const gaveUp = !finished && elapsed >= watchMs;
        setState({ item, watching: !finished && !gaveUp, gaveUp, seconds: Math.floor(elapsed / 1000) });
        if (!finished && !gaveUp) timer = setTimeout(poll, pollMs);
      } catch (error) {
        if (!stopped) setState((previous) => ({ ...previous, watching: false, error: (error as Error).message }));
      }
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [path, round]);

  const finished = state.item?.state === "FINISHED";
  const onceFinished = useRef(onFinished);
  onceFinished.current = onFinished;
  useEffect(() => {
    if (finished) onceFinished.current();
  }, [finished]);

  return { ...state, again: () => setRound((n) => n + 1) };
}

/** The three states as steps, the current one marked, and a progress bar of them. */
export function StateProgress({ label, state }: { label: string; state?: string }) {
  const reached = state === undefined ? 0 : actionStates.indexOf(state as (typeof actionStates)[number]) + 1;
  return (
    <div class="state-progress">
      <progress max={actionStates.length} value={reached} aria-label={label} aria-valuetext={state ? describe(state) : "not read yet"} />
      <ol class="steps">
        {actionStates.map((step, index) => (
          <li key={step} class={index < reached ? "reached" : undefined} aria-current={index === reached - 1 ? "step" : undefined}>
            <span class="mono">{step}</span> <span class="muted">{meaningOf(step)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}

/** A watched send: its progress, then what `children` show of the finished call or text. */
export function WatchPanel<T extends { id: number; state?: string }>({
  title,
  noun,
  watch,
  result,
  waitingFor,
  children,
}: {
  title: string;
  /** "Call 17", "Text 9". */
  noun: string;
  watch: Watch<T>;
  /** finalCallResult / finalTextResult. */
  result?: string;
  /** What it still waits for once FINISHED (a recording), if anything. */
  waitingFor?: string;
  children: ComponentChildren;
}) {
  const state = watch.item?.state;
  const headingId = `watch-${noun.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <section class="card watch" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      <StateProgress label={`Progress of ${noun.toLowerCase()}`} state={state} />
      <p role="status" class="muted">
        {watch.watching && <span class="spinner" aria-hidden="true" />}
        {state === undefined
          ? `Reading ${noun.toLowerCase()}…`
          : state === "FINISHED"
            ? `${noun} finished: ${result ? describe(result) : "no result"}.${waitingFor && watch.watching ? ` Waiting for ${waitingFor}… (${watch.seconds} s)` : ""}`
            : watch.gaveUp
              ? `Stopped watching after ${Math.round(watchMs / 60_000)} minutes: ${noun.toLowerCase()} is still ${describe(state)}. Watch it again, or find it in the list below later.`
              : `${noun} is ${describe(state)} (${watch.seconds} s)`}
      </p>
      <ErrorText error={watch.error && `Could not read ${noun.toLowerCase()}: ${watch.error}`} />
      {(watch.gaveUp || watch.error) && (
        <button type="button" class="secondary" onClick={watch.again}>
          Watch {noun.toLowerCase()} again
        </button>
      )}
      {state === "FINISHED" && children}
    </section>
  );
}
