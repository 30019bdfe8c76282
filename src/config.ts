import path from "node:path";

// One typed configuration, read from SWITCHBOARD_* environment variables and overridden by CLI
// flags. Every value is checked here, at start, so a typo fails loudly before anything listens.

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  publicUrl?: string;
  adminToken?: string;
  databaseUrl?: string;
  logLevel: LogLevel;
}

/** The setting names, each an environment variable and a CLI flag (`--port`, `--data-dir`, …). */
export const settings = {
  port: { env: "SWITCHBOARD_PORT", flag: "--port <port>", help: "TCP port to listen on (default 8080)" },
  host: { env: "SWITCHBOARD_HOST", flag: "--host <host>", help: "address to listen on (default 127.0.0.1)" },
  dataDir: { env: "SWITCHBOARD_DATA_DIR", flag: "--data-dir <dir>", help: "where the SQLite file, blobs and admin token live (default ./data)" },
  publicUrl: { env: "SWITCHBOARD_PUBLIC_URL", flag: "--public-url <url>", help: "public base URL used in publicUrl/mp3Url links (default: from the request)" },
  adminToken: { env: "SWITCHBOARD_ADMIN_TOKEN", flag: "--admin-token <token>", help: "bearer token for /admin/v1 (default: generated once, kept in the data dir)" },
  databaseUrl: { env: "SWITCHBOARD_DATABASE_URL", flag: "--database-url <url>", help: "postgres://… selects PostgreSQL (default: SQLite in the data dir)" },
  logLevel: { env: "SWITCHBOARD_LOG_LEVEL", flag: "--log-level <level>", help: "fatal, error, warn, info, debug, trace or silent (default info)" },
} as const;

export type SettingName = keyof typeof settings;
export type RawSettings = Partial<Record<SettingName, string>>;

export class ConfigError extends Error {}

const logLevels: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** Flags win over the environment; absent values take the embedded-mode defaults. */
export function loadConfig(flags: RawSettings = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const raw = (name: SettingName): string | undefined => {
    const value = flags[name] ?? env[settings[name].env];
    return value === undefined || value === "" ? undefined : value;
  };
  const fail = (name: SettingName, why: string): never => {
    throw new ConfigError(`${settings[name].env} (${settings[name].flag.split(" ")[0]}): ${why}`);
  };

  const portText = raw("port") ?? "8080";
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535)) fail("port", `"${portText}" is not a port number (0-65535)`);

  const publicUrl = raw("publicUrl");
  if (publicUrl !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(publicUrl);
    } catch {
      fail("publicUrl", `"${publicUrl}" is not an absolute URL`);
    }
    if (parsed && parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      fail("publicUrl", `"${publicUrl}" must be an http:// or https:// URL`);
    }
  }

  const adminToken = raw("adminToken");
  if (adminToken !== undefined && adminToken.length < 16) {
    fail("adminToken", "must be at least 16 characters");
  }

  const databaseUrl = raw("databaseUrl");
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    fail("databaseUrl", `"${databaseUrl}" is not a postgres:// URL (leave it unset for SQLite)`);
  }

  const logLevel = (raw("logLevel") ?? "info") as LogLevel;
  if (!logLevels.includes(logLevel)) fail("logLevel", `"${logLevel}" is not one of ${logLevels.join(", ")}`);

  return {
    port,
    host: raw("host") ?? "127.0.0.1",
    dataDir: path.resolve(raw("dataDir") ?? "./data"),
    publicUrl: publicUrl?.replace(/\/+$/, ""),
    adminToken,
    databaseUrl,
    logLevel,
  };
}
