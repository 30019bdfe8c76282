import { formatBytes, formatCreditAmount, formatDateTime } from "../format.js";
import type { Call, CallRecording } from "../types.js";
import { ActionFacts } from "./action-facts.js";
import { describe } from "./results.js";

/** A call as getCall answers it: its facts, its record (a call makes one attempt) and the record's recordings. */
export function CallDetails({ call, level }: { call: Call; level: 3 | 4 }) {
  const Heading = `h${level}` as "h3" | "h4";
  const records = call.records ?? [];
  return (
    <div class="details">
      <ActionFacts action={call} result={call.finalCallResult} />
      {records.length === 0 && <p class="muted">No record yet: a call has one once it is FINISHED.</p>}
      {records.map((record) => (
        <section key={record.id} aria-label={`Record ${record.id} of call ${call.id}`}>
          <Heading>Record {record.id}</Heading>
          <dl class="facts">
            <dt>Result</dt>
            <dd>{record.result ? describe(record.result) : "—"}</dd>
            <dt>Finished</dt>
            <dd>{record.finishTime ? formatDateTime(record.finishTime) : "—"}</dd>
            <dt>Billed</dt>
            <dd>{record.billedAmount === undefined ? "—" : formatCreditAmount(record.billedAmount)}</dd>
            <dt>Caller name</dt>
            <dd>{record.callerName ?? "— (not reported)"}</dd>
          </dl>
          <Heading>Recordings</Heading>
          {(record.recordings ?? []).length === 0 ? (
            <p class="muted">No recordings.</p>
          ) : (
            <ul class="items" aria-label={`Recordings of call ${call.id}`}>
              {record.recordings!.map((recording) => (
                <Recording key={recording.id} callId={call.id} recording={recording} />
              ))}
            </ul>
          )}
        </section>
      ))}
    </div>
  );
}

/** A recording played in the page and downloaded, both from getCallRecordingMp3 with the session's cookie. */
function Recording({ callId, recording }: { callId: number; recording: CallRecording }) {
  const file = `/v2/calls/recordings/${recording.id}.mp3`;
  const label = `recording “${recording.name}” of call ${callId}`;
  return (
    <li aria-label={`Recording “${recording.name}”`}>
      <p>
        <span class="mono">{recording.name}</span>{" "}
        <span class="muted">
          {[recording.lengthInSeconds === undefined ? undefined : `${recording.lengthInSeconds} s`, recording.lengthInBytes === undefined ? undefined : formatBytes(recording.lengthInBytes), formatDateTime(recording.created)]
            .filter(Boolean)
            .join(" · ")}
        </span>
      </p>
      {recording.state === "READY" ? (
        <>
          <audio controls preload="metadata" src={file} aria-label={`Play ${label}`} />
          <a class="button secondary" href={file} download={`call-${callId}-${recording.name}.mp3`} aria-label={`Download ${label}`}>
            Download MP3
          </a>
        </>
      ) : (
        <p class="muted">{recording.state === "RECORDING" ? "Still recording: its MP3 is there once it is READY." : "The recording failed (ERROR): it has no MP3."}</p>
      )}
    </li>
  );
}
