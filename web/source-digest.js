import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

// What a build of the web pages was made from: every file under web/, docs/ and src/common/
// (modules the pages share with the server), the README
// (rendered as a page, with the screenshots in docs/) and the lockfile (library versions). The
// build (web/build-when-stale.js, which `npm start` and the test suite run) rebuilds the pages
// only when the digest kept in dist/web no longer matches. Plain JavaScript (typed by
// source-digest.d.ts) so that it runs before anything is compiled.

const projectRoot = path.resolve(import.meta.dirname, "..");

export const webBuildDir = path.join(projectRoot, "dist", "web");
export const digestFile = path.join(webBuildDir, ".source-digest");

/** @param {string} folder */
function filesUnder(folder) {
  const dir = path.join(projectRoot, folder);
  if (!fs.existsSync(dir)) return [];
  return /** @type {string[]} */ (fs.readdirSync(dir, { recursive: true }))
    .map((file) => path.join(folder, file))
    .filter((file) => fs.statSync(path.join(projectRoot, file)).isFile());
}

export function webSourceDigest() {
  const hash = createHash("sha256");
  for (const file of [...filesUnder("web"), ...filesUnder("docs"), ...filesUnder("src/common"), "README.md", "package-lock.json"].sort()) {
    hash.update(`${file}\0`).update(fs.readFileSync(path.join(projectRoot, file))).update("\0");
  }
  return hash.digest("hex");
}

/** True when dist/web was built from the sources as they are now. */
export function webBuildIsCurrent() {
  return fs.existsSync(digestFile) && fs.readFileSync(digestFile, "utf8").trim() === webSourceDigest();
}
