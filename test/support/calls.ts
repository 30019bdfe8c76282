import { call, type TestApp } from "./app.js";

/** The operator API, with the app's bearer token. */
export function admin(app: TestApp, method: string, path: string, body?: unknown) {
  return call(app, method, `/admin/v1${path}`, { body, headers: { authorization: `Bearer ${app.adminToken}` } });
}

/** POST /admin/v1/accounts/{id}/calls with a valid call, changed by `fields`. */
export function ingestCall(app: TestApp, accountId: number, fields: Record<string, unknown> = {}) {
  return admin(app, "POST", `/accounts/${accountId}/calls`, {
    fromNumber: "12135551189",
    toNumber: "13105550100",
    startTime: Date.now(),
    durationSeconds: 61,
    ...fields,
  });
}

/** A multipart upload to the operator API: form fields in order, then the file. */
export async function uploadRecording(
  app: TestApp,
  method: "POST" | "PUT",
  path: string,
  bytes: Uint8Array | undefined,
  fields: Record<string, string> = {},
  fileFirst = false,
): Promise<{ status: number; json: any }> {
  const form = new FormData();
  const file = () => bytes && form.append("file", new Blob([new Uint8Array(bytes)]), "recording.bin");
  if (fileFirst) file();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  if (!fileFirst) file();
  const response = await fetch(`${app.baseUrl}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${app.adminToken}` }, body: form });
  return { status: response.status, json: await response.json() };
}
