import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

// What a build of the web pages was made from: every file under web/ and docs/, the README
// (rendered as a page, with the screenshots in docs/) and the lockfile (library versions). The
// test suite rebuilds the pages when the digest kept in dist/web no longer matches.

const projectRoot = path.resolve(import.meta.dirname, "..");

export const webBuildDir = path.join(projectRoot, "dist", "web");
export const digestFile = path.join(webBuildDir, ".source-digest");

function filesUnder(folder: string): string[] {
  const dir = path.join(projectRoot, folder);
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .map((file) => path.join(folder, file))
    .filter((file) => fs.statSync(path.join(projectRoot, file)).isFile());
}

export function webSourceDigest(): string {
  const hash = createHash("sha256");
  for (const file of [...filesUnder("web"), ...filesUnder("docs"), "README.md", "package-lock.json"].sort()) {
    hash.update(`${file}\0`).update(fs.readFileSync(path.join(projectRoot, file))).update("\0");
  }
  return hash.digest("hex");
}
