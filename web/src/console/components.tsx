import type { ButtonHTMLAttributes, ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { formatCount, formatTotal } from "./format.js";

/** An error from the API, in words, beside the control that caused it (named by `id` for aria-describedby). */
export function ErrorText({ id, error }: { id?: string; error?: string }) {
  if (!error) return null;
  return (
    <p id={id} class="error" role="alert">
      {error}
    </p>
  );
}

export function Loading({ label }: { label: string }) {
  return (
    <p class="muted" role="status">
      <span class="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

type ButtonProps = Omit<ButtonHTMLAttributes<HTMLButtonElement>, "type"> & { busy?: boolean; busyLabel?: string; type?: "button" | "submit" };

/** A button that shows its request is under way: disabled, with a spinner and words that say so. */
export function BusyButton({ busy = false, busyLabel, children, type = "button", ...rest }: ButtonProps) {
  return (
    <button type={type} {...rest} disabled={busy || rest.disabled} aria-busy={busy}>
      {busy && <span class="spinner" aria-hidden="true" />}
      {busy && busyLabel ? busyLabel : children}
    </button>
  );
}

/**
 * Copies `text`. The Clipboard API exists only on secure pages (https, or localhost); elsewhere
 * the text is selected in `fallbackInput` and copied the old way.
 */
export function CopyButton({ text, label, fallbackInput }: { text: string; label: string; fallbackInput?: () => HTMLInputElement | null }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  useEffect(() => {
    if (state === "idle") return;
    const timer = setTimeout(() => setState("idle"), 4000);
    return () => clearTimeout(timer);
  }, [state]);
  const copy = async () => {
    try {
      if (navigator.clipboard) {
        await navigator.clipboard.writeText(text);
      } else {
        const input = fallbackInput?.();
        input?.select();
        if (!input || !document.execCommand("copy")) throw new Error("copy refused");
      }
      setState("copied");
    } catch {
      setState("failed");
    }
  };
  return (
    <span class="inline">
      <button type="button" class="secondary" onClick={copy}>
        {label}
      </button>
      <span role="status" class="muted">
        {state === "copied" ? "Copied" : state === "failed" ? "Could not copy: select the text and copy it" : ""}
      </span>
    </span>
  );
}

/** A read-only value and a button that copies it. */
export function CopyField({ id, label, value, copyLabel }: { id: string; label: string; value: string; copyLabel: string }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <div class="inline">
        <input id={id} ref={input} readOnly value={value} onFocus={(event) => event.currentTarget.select()} />
        <CopyButton text={value} label={copyLabel} fallbackInput={() => input.current} />
      </div>
    </div>
  );
}

/**
 * Previous and next page of a list, and where in it we are. `total` is the page's totalCount,
 * which is -1 when the server stopped counting (beyond 10,000 matches): then a full page means
 * there may be more.
 */
export function Pager({ label, offset, limit, total, shown, onOffset }: { label: string; offset: number; limit: number; total: number; shown: number; onOffset: (offset: number) => void }) {
  const counted = total >= 0;
  if (counted && total <= limit && offset === 0) return null;
  const last = offset + shown;
  return (
    <nav class="inline pager" aria-label={label}>
      <button type="button" class="secondary" disabled={offset === 0} onClick={() => onOffset(Math.max(0, offset - limit))}>
        Previous page
      </button>
      <span class="muted">{shown === 0 ? "none on this page" : `${formatCount(offset + 1)}–${formatCount(last)} of ${formatTotal(total)}`}</span>
      <button type="button" class="secondary" disabled={counted ? last >= total : shown < limit} onClick={() => onOffset(offset + limit)}>
        Next page
      </button>
    </nav>
  );
}

/** A modal question (the native <dialog>: focus moves in, Escape cancels, focus returns). */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  busy: boolean;
  error?: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  return (
    <dialog ref={dialog} aria-labelledby="confirm-title" onCancel={(event) => (event.preventDefault(), onCancel())}>
      <h2 id="confirm-title">{title}</h2>
      {children}
      <ErrorText error={error} />
      <div class="actions">
        <button type="button" class="secondary" onClick={onCancel} autofocus>
          Cancel
        </button>
        <BusyButton class="danger solid" busy={busy} busyLabel="Deleting…" onClick={onConfirm}>
          {confirmLabel}
        </BusyButton>
      </div>
    </dialog>
  );
}
