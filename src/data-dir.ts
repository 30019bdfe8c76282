import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { settingError } from "./config.js";

/**
 * Creates the data directory if it is missing and proves it writable, or fails with one line
 * naming the setting. Missing parents are created one at a time: Node 20's recursive mkdir never
 * returns for a path under /proc (`--data-dir /proc/nope` hung the start).
 */
export function prepareDataDir(dir: string): void {
  const missing: string[] = [];
  let existing = dir;
  while (!fs.existsSync(existing)) {
    missing.unshift(existing);
    existing = path.dirname(existing);
  }
  if (!fs.statSync(existing).isDirectory()) {
    throw settingError("dataDir", `${existing} is a file, not a directory: remove it or choose another directory`);
  }
  for (const each of missing) {
    try {
      fs.mkdirSync(each);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw settingError("dataDir", `cannot create ${each} (${(error as Error).message}): choose a directory this user can create`);
      }
    }
  }
  // access(W_OK) says yes to root on a read-only mount and in /proc: writing a file is the proof.
  const probe = path.join(dir, `.write-test-${randomUUID()}`);
  try {
    fs.writeFileSync(probe, "", { flag: "wx" });
    fs.rmSync(probe);
  } catch (error) {
    throw settingError("dataDir", `${dir} is not writable (${(error as Error).message}): fix its permissions or choose another directory`);
  }
}
