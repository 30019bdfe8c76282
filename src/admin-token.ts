import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";

export interface AdminToken {
  token: string;
  /** Where the generated token is kept, or undefined when it came from configuration. */
  file?: string;
}

/**
 * The configured token, else the one generated on an earlier start, else a new one written with
 * mode 0600 (created exclusively, so two processes starting at once agree on one token).
 */
export function resolveAdminToken(configured: string | undefined, dataDir: string): AdminToken {
  if (configured) return { token: configured };
  const file = path.join(dataDir, "admin-token");
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    fs.writeFileSync(file, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return { token: fs.readFileSync(file, "utf8").trim(), file };
}
