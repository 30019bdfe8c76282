// The eight formats CallFire accepts, detected from the bytes (never the name or part type).
// `mediaType` is what the SDKs' MediaType enums parse from JSON (they reject anything else);
// `contentType` is what CallFire's spec `produces` for the download extension.

export type MediaFormat = "jpg" | "png" | "bmp" | "gif" | "mp4" | "m4a" | "mp3" | "wav";

export interface FormatInfo {
  mediaType: string;
  contentType: string;
  /** The extension CallFire's SDKs put in download URLs (jpeg, not jpg). */
  urlExtension: string;
  /** Audio that can be timed and converted. */
  audio: boolean;
}

export const mediaFormats: Record<MediaFormat, FormatInfo> = {
  jpg: { mediaType: "image/jpeg", contentType: "image/jpeg", urlExtension: "jpeg", audio: false },
  png: { mediaType: "image/png", contentType: "image/png", urlExtension: "png", audio: false },
  bmp: { mediaType: "image/bmp", contentType: "image/x-bmp", urlExtension: "bmp", audio: false },
  gif: { mediaType: "image/gif", contentType: "image/gif", urlExtension: "gif", audio: false },
  mp4: { mediaType: "video/mp4", contentType: "video/mp4", urlExtension: "mp4", audio: false },
  m4a: { mediaType: "audio/m4a", contentType: "audio/m4a", urlExtension: "m4a", audio: true },
  mp3: { mediaType: "audio/mp3", contentType: "audio/mp3", urlExtension: "mp3", audio: true },
  wav: { mediaType: "audio/x-wav", contentType: "audio/wav", urlExtension: "wav", audio: true },
};

export const acceptedFormats = "bmp, gif, jpg, m4a, mp3, mp4, png, wav";

/** Download extensions: jpg and jpeg are the same; case does not matter. */
export function formatOfExtension(extension: string): MediaFormat | undefined {
  const ext = extension.toLowerCase();
  if (ext === "jpeg") return "jpg";
  return Object.hasOwn(mediaFormats, ext) ? (ext as MediaFormat) : undefined;
}

/** file-type's `ext` for the bytes, mapped onto ours. */
export function formatOfSniffed(ext: string | undefined): MediaFormat | undefined {
  return ext !== undefined && Object.hasOwn(mediaFormats, ext) ? (ext as MediaFormat) : undefined;
}

/** Renditions we can make: `.mp3` of a stored WAV and `.wav` of a stored MP3. */
export function canConvert(from: MediaFormat, to: MediaFormat): boolean {
  return (from === "wav" && to === "mp3") || (from === "mp3" && to === "wav");
}
