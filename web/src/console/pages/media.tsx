import { useEffect, useState } from "preact/hooks";
import { get, query, upload } from "../api.js";
import { CopyField, ErrorText, Loading, Pager } from "../components.js";
import { formatBytes, formatDateTime, formatTotal } from "../format.js";
import { useDebounced, useResource } from "../hooks.js";
import { mediaFile } from "../media-file.js";
import { PageFrame } from "../page-frame.js";
import type { Media, Page } from "../types.js";

const pageSize = 10;

export function MediaLibrary() {
  const [search, setSearch] = useState("");
  const filter = useDebounced(search.trim(), 300);
  const [offset, setOffset] = useState(0);
  useEffect(() => setOffset(0), [filter]);
  const list = useResource(() => get<Page<Media>>(`/v2/media${query({ filter, limit: pageSize, offset })}`), [filter, offset]);

  return (
    <PageFrame title="Media" intro="Sounds and images for calls and texts: bmp, gif, jpg, m4a, mp3, mp4, png and wav, recognised from their bytes.">
      <Uploader onUploaded={list.reload} />
      <section class="card" aria-labelledby="library-title">
        <h2 id="library-title">Library{list.data ? ` (${formatTotal(list.data.totalCount)})` : ""}</h2>
        <div class="field">
          <label for="media-search">Search by name</label>
          <input id="media-search" type="search" value={search} onInput={(event) => setSearch(event.currentTarget.value)} aria-describedby={list.error ? "media-list-error" : undefined} />
        </div>
        {list.loading && <Loading label="Loading the media…" />}
        <ErrorText id="media-list-error" error={list.error} />
        {list.data && list.data.items.length === 0 && <p class="muted">{filter ? `No media named like “${filter}”.` : "No media yet: upload some above."}</p>}
        {list.data && list.data.items.length > 0 && (
          <ul class="items" aria-label="Media files">
            {list.data.items.map((media) => (
              <MediaItem key={media.id} media={media} />
            ))}
          </ul>
        )}
        {list.data && <Pager label="Media pages" offset={offset} limit={pageSize} total={list.data.totalCount} shown={list.data.items.length} onOffset={setOffset} />}
      </section>
    </PageFrame>
  );
}

interface Upload {
  key: number;
  name: string;
  size: number;
  /** Of the request body, which is the file in its multipart envelope. */
  fraction: number;
  state: "sending" | "storing" | "done" | "failed";
  message?: string;
}

let uploadKeys = 0;

/** Files dropped here (or chosen) go to POST /v2/media one request each, with their progress. */
function Uploader({ onUploaded }: { onUploaded: () => void }) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [over, setOver] = useState(false);
  const change = (key: number, update: Partial<Upload>) => setUploads((all) => all.map((u) => (u.key === key ? { ...u, ...update } : u)));

  const start = (files: FileList | null) => {
    for (const file of Array.from(files ?? [])) {
      const key = ++uploadKeys;
      setUploads((all) => [{ key, name: file.name, size: file.size, fraction: 0, state: "sending" }, ...all]);
      const form = new FormData();
      form.append("file", file, file.name);
      upload<{ id: number }>("/v2/media", form, (sent, total) => change(key, { fraction: sent / total, state: sent >= total ? "storing" : "sending" })).then(
        ({ id }) => {
          change(key, { state: "done", message: `Uploaded as media ${id}.` });
          onUploaded();
        },
        (error: Error) => change(key, { state: "failed", message: error.message }),
      );
    }
  };

  return (
    <section class="card" aria-labelledby="upload-title">
      <h2 id="upload-title">Upload</h2>
      <div
        class={`dropzone${over ? " over" : ""}`}
        data-testid="dropzone"
        onDragOver={(event) => {
          event.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(event) => {
          event.preventDefault();
          setOver(false);
          start(event.dataTransfer?.files ?? null);
        }}
      >
        <p>Drop files here, or choose them:</p>
        <label for="media-files" class="visually-hidden">
          Files to upload
        </label>
        <input
          id="media-files"
          type="file"
          multiple
          accept=".bmp,.gif,.jpg,.jpeg,.m4a,.mp3,.mp4,.png,.wav,audio/*,image/*,video/mp4"
          onChange={(event) => {
            start(event.currentTarget.files);
            event.currentTarget.value = "";
          }}
        />
      </div>
      {uploads.length > 0 && (
        <ul class="items uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.key}>
              <div class="item-head">
                <span class="mono">{u.name}</span>
                <span class="muted">{formatBytes(u.size)}</span>
              </div>
              {(u.state === "sending" || u.state === "storing") && (
                <>
                  <progress max={100} value={u.state === "storing" ? undefined : Math.floor(u.fraction * 100)} aria-label={`Uploading ${u.name}`} />
                  <p class="muted" role="status">
                    {u.state === "storing" ? "Sent; the server is storing it…" : `${Math.floor(u.fraction * 100)}% sent`}
                  </p>
                </>
              )}
              {u.state === "done" && (
                <p class="notice" role="status">
                  {u.message}
                </p>
              )}
              {u.state === "failed" && <ErrorText error={`${u.name} was not stored: ${u.message}`} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function MediaItem({ media }: { media: Media }) {
  const file = mediaFile(media);
  const titleId = `media-${media.id}`;
  return (
    <li aria-labelledby={titleId}>
      <div class="item-head">
        <h3 id={titleId}>{media.name}</h3>
        <span class="muted">
          {media.mediaType} · {formatBytes(media.lengthInBytes)} · {formatDateTime(media.created)}
        </span>
      </div>
      {media.mediaType.startsWith("audio/") && <audio controls preload="metadata" src={file} aria-label={`Play ${media.name}`} />}
      {media.mediaType.startsWith("image/") && <img class="preview" src={file} alt={`Preview of ${media.name}`} loading="lazy" />}
      {media.mediaType.startsWith("video/") && <video class="preview" controls preload="metadata" src={file} aria-label={`Play ${media.name}`} />}
      <CopyField id={`public-url-${media.id}`} label="Public URL (no credentials needed)" value={media.publicUrl} copyLabel="Copy public URL" />
      <div class="actions">
        <a class="button secondary" href={file} download={media.name} aria-label={`Download ${media.name}`}>
          Download
        </a>
      </div>
    </li>
  );
}
