#!/usr/bin/env node
import path from "node:path";
import { webBuildIsCurrent } from "./source-digest.js";

// Builds the web pages into dist/web unless that build was made from the current sources (the
// digest of web/, docs/, src/common/, the README and the lockfile): a start or a test run on an
// unchanged tree skips Vite altogether. Vite is loaded only when there is something to build.

export async function buildWebPagesWhenStale() {
  if (webBuildIsCurrent()) return;
  const { build } = await import("vite");
  await build({ configFile: path.join(import.meta.dirname, "vite.config.ts"), logLevel: "warn" });
}

if (process.argv[1] === import.meta.filename) await buildWebPagesWhenStale();
