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
  /** Unset: blobs under `<dataDir>/blobs`; `s3://bucket/prefix`: S3-compatible storage. */
  blobUrl?: string;
  s3: { endpoint?: string; region?: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle?: boolean };
  mediaMaxBytes: number;
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
  blobUrl: { env: "SWITCHBOARD_BLOB_URL", flag: "--blob-url <url>", help: "s3://bucket/prefix stores media in S3 (default: files in the data dir)" },
  s3Endpoint: { env: "SWITCHBOARD_S3_ENDPOINT", flag: "--s3-endpoint <url>", help: "S3-compatible endpoint URL (default: AWS)" },
  s3Region: { env: "SWITCHBOARD_S3_REGION", flag: "--s3-region <region>", help: "S3 region (default us-east-1)" },
  s3AccessKeyId: { env: "SWITCHBOARD_S3_ACCESS_KEY_ID", flag: "--s3-access-key-id <id>", help: "S3 access key id (default: the AWS SDK's chain)" },
  s3SecretAccessKey: { env: "SWITCHBOARD_S3_SECRET_ACCESS_KEY", flag: "--s3-secret-access-key <secret>", help: "S3 secret access key" },
  s3ForcePathStyle: { env: "SWITCHBOARD_S3_FORCE_PATH_STYLE", flag: "--s3-force-path-style <bool>", help: "true for MinIO-style path addressing (default false)" },
  mediaMaxBytes: { env: "SWITCHBOARD_MEDIA_MAX_BYTES", flag: "--media-max-bytes <bytes>", help: "largest media upload in bytes (default 26214400, 25 MiB)" },
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

  const blobUrl = raw("blobUrl");
  if (blobUrl !== undefined && !/^s3:\/\/[^/]+/.test(blobUrl)) fail("blobUrl", `"${blobUrl}" is not an s3://bucket[/prefix] URL (leave it unset for local files)`);

  const s3Endpoint = raw("s3Endpoint");
  if (s3Endpoint !== undefined && !/^https?:\/\/./.test(s3Endpoint)) fail("s3Endpoint", `"${s3Endpoint}" is not an http(s) URL`);

  const pathStyle = raw("s3ForcePathStyle");
  if (pathStyle !== undefined && pathStyle !== "true" && pathStyle !== "false") fail("s3ForcePathStyle", `"${pathStyle}" must be true or false`);

  const maxText = raw("mediaMaxBytes") ?? String(25 * 1024 * 1024);
  const mediaMaxBytes = /^\d{1,15}$/.test(maxText) ? Number(maxText) : NaN;
  if (!(mediaMaxBytes >= 1)) fail("mediaMaxBytes", `"${maxText}" is not a positive number of bytes`);

  return {
    port,
    host: raw("host") ?? "127.0.0.1",
    dataDir: path.resolve(raw("dataDir") ?? "./data"),
    publicUrl: publicUrl?.replace(/\/+$/, ""),
    adminToken,
    databaseUrl,
    logLevel,
    blobUrl,
    s3: {
      endpoint: s3Endpoint,
      region: raw("s3Region"),
      accessKeyId: raw("s3AccessKeyId"),
      secretAccessKey: raw("s3SecretAccessKey"),
      forcePathStyle: pathStyle === undefined ? undefined : pathStyle === "true",
    },
    mediaMaxBytes,
  };
}
