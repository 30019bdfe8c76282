import fs from "node:fs";
import path from "node:path";
import { build } from "vite";
import { digestFile, webSourceDigest } from "../../web/source-digest.js";

/**
 * vitest's global setup: the server serves the web pages from dist/web, so build them when that
 * build is missing or was made from other sources (`npm run build` does the same and more).
 */
export default async function buildWebPagesWhenStale(): Promise<void> {
  const digest = webSourceDigest();
  if (fs.existsSync(digestFile) && fs.readFileSync(digestFile, "utf8").trim() === digest) return;
  await build({ configFile: path.resolve(import.meta.dirname, "../../web/vite.config.ts"), logLevel: "warn" });
}
