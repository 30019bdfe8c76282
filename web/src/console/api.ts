// The console's only way to the server: /v2 (CallFire's API, as any client calls it) and the
// few console reads under /console/api. The session rides in its HttpOnly cookie; every request
// also carries the session's CSRF token, which the server requires on anything but GET and HEAD.

/** CallFire's ErrorMessage, as every failure is answered. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | undefined;
let onSessionEnded: () => void = () => {};

export function setSession(token: string | undefined, ended: () => void): void {
  csrfToken = token;
  onSessionEnded = ended;
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  return { Accept: "application/json", ...(csrfToken ? { "X-CSRF-Token": csrfToken } : {}), ...extra };
}

/** The words of an error answer: CallFire's `message`, else the status line. */
function errorOf(status: number, statusText: string, body: string): ApiError {
  let message = `${status} ${statusText}`.trim();
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === "string" && parsed.message) message = parsed.message;
  } catch {
    // Not an ErrorMessage (a proxy's page): keep the status line.
  }
  if (status === 401 && csrfToken) onSessionEnded();
  return new ApiError(status, message);
}

function parse(text: string): unknown {
  return text === "" ? undefined : JSON.parse(text);
}

export async function request<T>(method: string, path: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: headers(body === undefined ? extraHeaders : { "Content-Type": "application/json", ...extraHeaders }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "the server could not be reached: check that it is running");
  }
  const text = await response.text();
  if (!response.ok) throw errorOf(response.status, response.statusText, text);
  return parse(text) as T;
}

export const get = <T>(path: string) => request<T>("GET", path);
export const post = <T>(path: string, body?: unknown, extraHeaders?: Record<string, string>) => request<T>("POST", path, body, extraHeaders);
export const del = (path: string) => request<void>("DELETE", path);

/** A multipart upload that reports its progress (fetch cannot report an upload's progress). */
export function upload<T>(path: string, form: FormData, onProgress: (sent: number, total: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    for (const [name, value] of Object.entries(headers())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded, event.total);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(parse(xhr.responseText) as T);
      else reject(errorOf(xhr.status, xhr.statusText, xhr.responseText));
    };
    xhr.onerror = () => reject(new ApiError(0, "the upload was cut off: check the connection and try again"));
    xhr.send(form);
  });
}

export const query = (params: Record<string, string | number | undefined>) => {
  const entries = Object.entries(params).filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== "");
  return entries.length === 0 ? "" : `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)]))}`;
};
