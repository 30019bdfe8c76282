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
 * mode 0600. The new one is written whole under another name and then linked into place, which
 * fails if the file exists: two processes starting at once agree on one token, and neither can
 * read a file the other has created but not yet written.
 */
export function resolveAdminToken(configured: string | undefined, dataDir: string): AdminToken {
  if (configured) return { token: configured };
  const file = path.join(dataDir, "admin-token");
  if (!fs.existsSync(file)) {
    const draft = `${file}.${randomBytes(6).toString("hex")}`;
    fs.writeFileSync(draft, `${randomBytes(32).toString("base64url")}\n`, { mode: 0o600, flag: "wx" });
    try {
      fs.linkSync(draft, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      fs.rmSync(draft);
    }
  }
  return { token: fs.readFileSync(file, "utf8").trim(), file };
}
