import { formatBytes, formatCreditAmount, formatDateTime } from "../format.js";
import { mediaFile } from "../media-file.js";
import type { Media, Text } from "../types.js";
import { ActionFacts } from "./action-facts.js";
import { describe } from "./results.js";

/** A text as getText answers it: its facts, message, media and its record. */
export function TextDetails({ text, level }: { text: Text; level: 3 | 4 }) {
  const Heading = `h${level}` as "h3" | "h4";
  const records = text.records ?? [];
  return (
    <div class="details">
      <ActionFacts action={text} result={text.finalTextResult} />
      <Heading>Message</Heading>
      {text.message ? <blockquote class="message">{text.message}</blockquote> : <p class="muted">No message: media only.</p>}
      {(text.media ?? []).length > 0 && (
        <>
          <Heading>Media</Heading>
          <ul class="items" aria-label={`Media of text ${text.id}`}>
            {text.media!.map((media) => (
              <TextMedia key={media.id} media={media} />
            ))}
          </ul>
        </>
      )}
      {records.length === 0 && <p class="muted">No record yet: a text has one once it is FINISHED.</p>}
      {records.map((record) => (
        <section key={record.id} aria-label={`Record ${record.id} of text ${text.id}`}>
          <Heading>Record {record.id}</Heading>
          <dl class="facts">
            <dt>Result</dt>
            <dd>{record.textResult ? describe(record.textResult) : "—"}</dd>
            <dt>Finished</dt>
            <dd>{record.finishTime ? formatDateTime(record.finishTime) : "—"}</dd>
            <dt>Billed</dt>
            <dd>{record.billedAmount === undefined ? "—" : formatCreditAmount(record.billedAmount)}</dd>
          </dl>
        </section>
      ))}
    </div>
  );
}

function TextMedia({ media }: { media: Media }) {
  const file = mediaFile(media);
  return (
    <li aria-label={media.name}>
      <p>
        <a href={file} download={media.name}>
          {media.name}
        </a>{" "}
        <span class="muted">
          {media.mediaType} · {formatBytes(media.lengthInBytes)}
        </span>
      </p>
      {media.mediaType.startsWith("image/") && <img class="preview" src={file} alt={`Preview of ${media.name}`} loading="lazy" />}
      {media.mediaType.startsWith("audio/") && <audio controls preload="metadata" src={file} aria-label={`Play ${media.name}`} />}
    </li>
  );
}
