import fs from "node:fs";
import path from "node:path";
import { Marked } from "marked";
import { gfmHeadingId } from "marked-gfm-heading-id";
import { defineConfig } from "vite";
import { digestFile, webBuildDir, webSourceDigest } from "./source-digest.js";

// Three pages: the docs landing page (/), the README (/readme) and the console (/console).
// Assets get content hashes in their names under /assets/, which the server caches for a year
// (src/console/web-pages.ts).

const readme = path.join(import.meta.dirname, "..", "README.md");
export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: webBuildDir,
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    rollupOptions: {
      input: {
        landing: path.join(import.meta.dirname, "index.html"),
        readme: path.join(import.meta.dirname, "readme.html"),
        console: path.join(import.meta.dirname, "console", "index.html"),
      },
    },
  },
  plugins: [
    {
      // The README is the project's one manual: served as a page, with GitHub's heading ids so
      // that links to its sections work, and its screenshots bundled like any other asset.
      name: "switchboard-readme",
      transformIndexHtml: {
        order: "pre",
        handler(html, { filename }) {
          if (path.basename(filename) !== "readme.html") return html;
          const body = new Marked(gfmHeadingId()).parse(fs.readFileSync(readme, "utf8"), { async: false });
          return html.replace("<!-- the project's README.md, rendered at build time -->", body.replaceAll('src="docs/', 'src="../docs/'));
        },
      },
    },
    {
      name: "switchboard-source-digest",
      apply: "build",
      closeBundle() {
        fs.writeFileSync(digestFile, `${webSourceDigest()}\n`);
      },
    },
  ],
});
