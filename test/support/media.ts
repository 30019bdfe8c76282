import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { TestApp } from "./app.js";

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/media");

export function fixture(name: string): Buffer {
  return fs.readFileSync(path.join(fixtures, name));
}

/** POST /v2/media as CallFire's SDKs do: multipart `file` (with a filename) and an optional `name`. */
export async function upload(
  app: TestApp,
  auth: string,
  bytes: Buffer,
  options: { filename?: string; name?: string; extraParts?: Array<[string, string | Blob, string?]> } = {},
): Promise<{ status: number; json: any }> {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(bytes)]), options.filename ?? "upload.bin");
  if (options.name !== undefined) form.append("name", options.name);
  for (const [field, value, filename] of options.extraParts ?? []) {
    if (typeof value === "string") form.append(field, value);
    else form.append(field, value, filename);
  }
  const response = await fetch(`${app.baseUrl}/v2/media`, { method: "POST", headers: { authorization: auth }, body: form });
  return { status: response.status, json: await response.json() };
}

export async function download(app: TestApp, pathname: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${app.baseUrl}${pathname}`, { headers });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** Every file under the blob store's root, except its empty tmp directory. */
export function blobFiles(app: TestApp): string[] {
  const root = path.join(app.dataDir, "blobs");
  if (!fs.existsSync(root)) return [];
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath ?? entry.path, entry.name)))
    .sort();
}
