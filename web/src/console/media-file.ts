import type { Media } from "./types.js";

/** The stored file of a medium: its public URL ends with the format's extension, and /v2/media/{id}.{ext} serves it as is. */
export const mediaFile = (media: Media) => `/v2/media/${media.id}.${media.publicUrl.slice(media.publicUrl.lastIndexOf(".") + 1)}`;
