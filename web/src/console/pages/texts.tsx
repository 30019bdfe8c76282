import { useState } from "preact/hooks";
import { get, post } from "../api.js";
import { ActionList } from "../actions/action-list.js";
import { sandboxTextNumbers, textResults } from "../actions/results.js";
import { SendForm, useIdempotencyKey, useSender } from "../actions/sending.js";
import { TextDetails } from "../actions/text-view.js";
import { useWatch, WatchPanel } from "../actions/watch.js";
import { BusyButton, ErrorText, Loading } from "../components.js";
import { fieldOfError, invalidIf } from "../field-errors.js";
import { formatCount } from "../format.js";
import { useAction, useResource } from "../hooks.js";
import { PageFrame } from "../page-frame.js";
import { useSessionInfo } from "../session.js";
import type { Media, Page, Text } from "../types.js";

export function Texts() {
  const { sandbox } = useSessionInfo();
  const [generation, setGeneration] = useState(0);
  const [sent, setSent] = useState<number>();
  const reloadList = () => setGeneration((n) => n + 1);

  return (
    <PageFrame
      title="Texts"
      intro={
        sandbox
          ? "Texts sent with sendTexts and ingested by the operator. In this sandbox no phone gets them: the simulator reports each one's result."
          : "Texts sent with sendTexts and ingested by the operator. Sent texts go to the operator's platform, which reports how they ended."
      }
    >
      <TestText
        sandbox={sandbox}
        onSent={(text) => {
          setSent(text.id);
          reloadList();
        }}
      />
      {sent !== undefined && <WatchedText key={sent} id={sent} onFinished={reloadList} />}
      <ActionList<Text>
        kind="text"
        results={textResults}
        generation={generation}
        resultOf={(text) => text.finalTextResult}
        summaryOf={(text) => text.message}
        details={(text) => <TextDetails text={text} level={4} />}
      />
    </PageFrame>
  );
}

// As the server counts them (src/services/texts.ts): code points; one text up to 160, else
// 153-character segments, ten at most.
const oneText = 160;
const segment = 153;
const longest = 10 * segment;

function MessageLength({ id, message }: { id: string; message: string }) {
  const length = [...message].length;
  const segments = length <= oneText ? 1 : Math.ceil(length / segment);
  return (
    <p id={id} class={length > longest ? "error" : "muted"}>
      {length > longest
        ? `${formatCount(length)} characters: at most ${formatCount(longest)} fit in a text.`
        : `${formatCount(length)} characters: ${segments === 1 ? "billed as 1 text" : `billed as ${segments} segments of up to ${segment} characters`}.`}
    </p>
  );
}

const recipientFields = ["fromNumber", "phoneNumber", "message", "media"] as const;

function TestText({ sandbox, onSent }: { sandbox: boolean; onSent: (text: Text) => void }) {
  const sender = useSender();
  const media = useResource(async () => (await get<Page<Media>>("/v2/media?limit=1000")).items, []);
  const [message, setMessage] = useState("");
  const [mediaId, setMediaId] = useState("");
  const keys = useIdempotencyKey();

  const send = useAction(async () => {
    const body = [{ phoneNumber: sender.to.trim(), fromNumber: sender.from, ...(message ? { message } : {}), ...(mediaId ? { media: [{ id: Number(mediaId) }] } : {}) }];
    const answer = await post<{ items: Text[] }>("/v2/texts", body, { "Idempotency-Key": keys.keyFor(body) });
    keys.sent();
    onSent(answer.items[0]!);
  });
  const field = fieldOfError(send.error, recipientFields);
  const errorId = "test-text-error";
  const errorAt = (name: (typeof recipientFields)[number]) => (field === name ? <ErrorText id={errorId} error={send.error} /> : null);

  return (
    <SendForm kind="text" send={send} sender={sender} field={field} sandboxNumbers={sandbox ? sandboxTextNumbers : undefined}>
      <div class="field">
        <label for="test-text-message">Message</label>
        <textarea
          id="test-text-message"
          rows={3}
          value={message}
          onInput={(event) => setMessage(event.currentTarget.value)}
          {...invalidIf(field === "message", errorId, "test-text-length")}
        />
        <MessageLength id="test-text-length" message={message} />
        {errorAt("message")}
      </div>
      <div class="field">
        {media.loading && !media.data && <Loading label="Loading the media…" />}
        <ErrorText error={media.error && `Could not read the media: ${media.error}`} />
        {media.data && (
          <>
            <label for="test-text-media">Attach (optional)</label>
            <select id="test-text-media" value={mediaId} onChange={(event) => setMediaId(event.currentTarget.value)} {...invalidIf(field === "media", errorId, "test-text-media-hint")}>
              <option value="">Nothing</option>
              {media.data.map((item) => (
                <option key={item.id} value={String(item.id)}>
                  {item.name} ({item.mediaType}, media {item.id})
                </option>
              ))}
            </select>
            <p id="test-text-media-hint" class="muted">
              {media.data.length === 0 ? (
                <>
                  No media yet: <a href="/console/media">upload images or sounds on the Media page</a>.
                </>
              ) : (
                "A text needs a message, media, or both."
              )}
            </p>
          </>
        )}
        {errorAt("media")}
      </div>
    </SendForm>
  );
}

function WatchedText({ id, onFinished }: { id: number; onFinished: () => void }) {
  const watch = useWatch<Text>(`/v2/texts/${id}`, (text) => text.state === "FINISHED", onFinished);
  return (
    <WatchPanel title={`Test text ${id}`} noun={`Text ${id}`} watch={watch} result={watch.item?.finalTextResult}>
      {watch.item && <TextDetails text={watch.item} level={3} />}
    </WatchPanel>
  );
}
