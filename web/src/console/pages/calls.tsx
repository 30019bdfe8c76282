import { useRef, useState } from "preact/hooks";
import { get, post } from "../api.js";
import { ActionList } from "../actions/action-list.js";
import { CallDetails } from "../actions/call-view.js";
import { callResults, sandboxCallNumbers, voices } from "../actions/results.js";
import { SendForm, useIdempotencyKey, useSender } from "../actions/sending.js";
import { useWatch, WatchPanel } from "../actions/watch.js";
import { BusyButton, ErrorText, Loading } from "../components.js";
import { fieldOfError, invalidIf } from "../field-errors.js";
import { useAction, useResource } from "../hooks.js";
import { PageFrame } from "../page-frame.js";
import { useSessionInfo } from "../session.js";
import type { Call, Media, Page } from "../types.js";

export function Calls() {
  const { sandbox } = useSessionInfo();
  const [generation, setGeneration] = useState(0);
  const [sent, setSent] = useState<{ id: number; expectRecording: boolean }>();
  const reloadList = () => setGeneration((n) => n + 1);

  return (
    <PageFrame
      title="Calls"
      intro={
        sandbox
          ? "Calls sent with sendCalls and ingested by the operator. In this sandbox no phone rings: the simulator answers each call, and records the sound it played."
          : "Calls sent with sendCalls and ingested by the operator. Sent calls go to the operator's platform, which reports how they ended."
      }
    >
      <TestCall
        sandbox={sandbox}
        onSent={(call, expectRecording) => {
          setSent({ id: call.id, expectRecording });
          reloadList();
        }}
      />
      {sent && <WatchedCall key={sent.id} id={sent.id} expectRecording={sent.expectRecording} onFinished={reloadList} />}
      <ActionList<Call> kind="call" results={callResults} generation={generation} resultOf={(call) => call.finalCallResult} details={(call) => <CallDetails call={call} level={4} />} />
    </PageFrame>
  );
}

/** The simulator records a played sound only when it is an MP3 or a WAV (it has no AAC decoder). */
const recordedTypes = new Set(["audio/mp3", "audio/x-wav"]);

/** The account's sounds (findMedia, audio only): what a call can play. */
function useSounds() {
  return useResource(async () => (await get<Page<Media>>("/v2/media?limit=1000")).items.filter((media) => media.mediaType.startsWith("audio/")), []);
}

const recipientFields = ["fromNumber", "phoneNumber", "liveMessageSoundId", "liveMessage", "voice"] as const;

function TestCall({ sandbox, onSent }: { sandbox: boolean; onSent: (call: Call, expectRecording: boolean) => void }) {
  const sender = useSender();
  const sounds = useSounds();
  const [plays, setPlays] = useState<"sound" | "message">();
  const [soundId, setSoundId] = useState("");
  const [message, setMessage] = useState("");
  const [voice, setVoice] = useState("");
  const keys = useIdempotencyKey();

  // A sound when there is one; the spoken message otherwise.
  const chosen = plays ?? (sounds.data && sounds.data.length === 0 ? "message" : "sound");
  const sound = sounds.data?.find((media) => String(media.id) === soundId) ?? sounds.data?.[0];

  const send = useAction(async () => {
    const recipient =
      chosen === "sound"
        ? { phoneNumber: sender.to.trim(), fromNumber: sender.from, liveMessageSoundId: sound!.id }
        : { phoneNumber: sender.to.trim(), fromNumber: sender.from, liveMessage: message, ...(voice ? { voice } : {}) };
    const body = [recipient];
    const answer = await post<{ items: Call[] }>("/v2/calls", body, { "Idempotency-Key": keys.keyFor(body) });
    keys.sent();
    onSent(answer.items[0]!, sandbox && chosen === "sound" && recordedTypes.has(sound!.mediaType));
  });
  const field = fieldOfError(send.error, recipientFields);
  const errorId = "test-call-error";
  const errorAt = (name: (typeof recipientFields)[number]) => (field === name ? <ErrorText id={errorId} error={send.error} /> : null);
  const nothingToPlay = chosen === "sound" && !sound;

  return (
    <SendForm kind="call" send={send} sender={sender} field={field} sandboxNumbers={sandbox ? sandboxCallNumbers : undefined} ready={!nothingToPlay}>
      <fieldset>
        <legend>The call plays</legend>
        <div class="inline">
          <label class="choice">
            <input type="radio" name="test-call-plays" value="sound" checked={chosen === "sound"} onChange={() => setPlays("sound")} /> An uploaded sound
          </label>
          <label class="choice">
            <input type="radio" name="test-call-plays" value="message" checked={chosen === "message"} onChange={() => setPlays("message")} /> A spoken message
          </label>
        </div>
        {chosen === "sound" && (
          <div class="field">
            {sounds.loading && !sounds.data && <Loading label="Loading the sounds…" />}
            <ErrorText error={sounds.error && `Could not read the media: ${sounds.error}`} />
            {sounds.data && sounds.data.length === 0 && (
              <p class="warning">
                This account has no sounds yet: <a href="/console/media">upload an MP3, WAV or M4A on the Media page</a>, or choose a spoken message.
              </p>
            )}
            {sounds.data && sounds.data.length > 0 && (
              <>
                <label for="test-call-sound">Sound</label>
                <select id="test-call-sound" value={String(sound?.id ?? "")} onChange={(event) => setSoundId(event.currentTarget.value)} {...invalidIf(field === "liveMessageSoundId", errorId)}>
                  {sounds.data.map((media) => (
                    <option key={media.id} value={String(media.id)}>
                      {media.name} ({media.mediaType}, media {media.id})
                    </option>
                  ))}
                </select>
                {sandbox && sound && !recordedTypes.has(sound.mediaType) && <p class="muted">The simulator records MP3 and WAV sounds only: this call will have no recording.</p>}
              </>
            )}
            {errorAt("liveMessageSoundId")}
          </div>
        )}
        {chosen === "message" && (
          <div class="row fields">
            <div class="field">
              <label for="test-call-message">Message (text to speech)</label>
              <textarea id="test-call-message" rows={2} required value={message} onInput={(event) => setMessage(event.currentTarget.value)} {...invalidIf(field === "liveMessage", errorId)} />
              {errorAt("liveMessage")}
            </div>
            <div class="field narrow">
              <label for="test-call-voice">Voice</label>
              <select id="test-call-voice" value={voice} onChange={(event) => setVoice(event.currentTarget.value)} {...invalidIf(field === "voice", errorId)}>
                <option value="">Platform default</option>
                {voices.map((name) => (
                  <option key={name} value={name}>
                    {name}
                  </option>
                ))}
              </select>
              {errorAt("voice")}
            </div>
          </div>
        )}
        {chosen === "message" && sandbox && <p class="muted">The simulator has no speech synthesis: a spoken message is timed (150 words a minute) but not recorded.</p>}
      </fieldset>
    </SendForm>
  );
}

/** How long a finished call is watched for the recording the simulator stores after the outcome. */
const recordingWaitMs = 30_000;

const played = (call?: Call) => call?.finalCallResult === "LA" || call?.finalCallResult === "AM";
const hasRecording = (call?: Call) => (call?.records ?? []).some((record) => (record.recordings ?? []).some((recording) => recording.state === "READY"));

function WatchedCall({ id, expectRecording, onFinished }: { id: number; expectRecording: boolean; onFinished: () => void }) {
  const finishedAt = useRef<number | undefined>(undefined);
  const watch = useWatch<Call>(`/v2/calls/${id}`, (call) => {
    if (call.state !== "FINISHED") return false;
    finishedAt.current ??= Date.now();
    return !(expectRecording && played(call)) || hasRecording(call) || Date.now() - finishedAt.current > recordingWaitMs;
  }, onFinished);

  return (
    <WatchPanel
      title={`Test call ${id}`}
      noun={`Call ${id}`}
      watch={watch}
      result={watch.item?.finalCallResult}
      waitingFor={expectRecording && played(watch.item) && !hasRecording(watch.item) ? "its recording" : undefined}
    >
      {watch.item && <CallDetails call={watch.item} level={3} />}
    </WatchPanel>
  );
}
