import { buildWebPagesWhenStale } from "../../web/build-when-stale.js";

/**
 * vitest's global setup: the server serves the web pages from dist/web, so build them when that
 * build is missing or was made from other sources (`npm start` does the same).
 */
export default buildWebPagesWhenStale;
