import { isIP } from "node:net";
import path from "node:path";
import { parseS3BlobUrl } from "./blobs/blob-store.js";
import { maxPlanCredits, maxPlanRate, type Plan } from "./services/billing.js";
import { unitsPerCredit } from "./services/credits.js";

// One typed configuration, read from SWITCHBOARD_* environment variables and overridden by CLI
// flags. Every value is checked here, at start, so a typo fails loudly before anything listens.

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  publicUrl?: string;
  /**
   * Peers whose X-Forwarded-Proto, -Host and -For are believed (Fastify's trustProxy): none, any
   * (true), or these addresses, CIDRs and proxy-addr names (loopback, linklocal, uniquelocal).
   */
  trustProxy: boolean | string[];
  adminToken?: string;
  databaseUrl?: string;
  logLevel: LogLevel;
  /** Unset: blobs under `<dataDir>/blobs`; `s3://bucket/prefix`: S3-compatible storage. */
  blobUrl?: string;
  s3: { endpoint?: string; region?: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle?: boolean };
  mediaMaxBytes: number;
  /** Largest call-recording upload; a WAV is converted in memory, so this also bounds that memory. */
  recordingMaxBytes: number;
  /** The plan of every account the operator has not given one (credits in ten-thousandths). */
  defaultPlan: Plan;
  callerIds: {
    codeLength: number;
    codeTtlSeconds: number;
    /** One send per number per this many seconds. */
    resendIntervalSeconds: number;
    sendsPerHour: number;
  };
  /**
   * Deliveries (verification calls, calls, texts): POSTed to the webhook, signed with the secret;
   * with no webhook, the sandbox simulator takes them and reports their outcome after the delay.
   */
  calls: { webhookUrl?: string; webhookSecret?: string; webhookTimeoutMs: number; maxAttempts: number; simulatorDelayMs: number; leaseMs: number };
  /** After SIGTERM/SIGINT: how long new connections are still accepted, then how long requests in flight may finish. */
  shutdown: { delayMs: number; graceMs: number };
  /** Bearer token /metrics asks for; unset: /metrics is open, as /healthz is. */
  metricsToken?: string;
  /** Recordings and media older than this many days are removed by the retention sweep; unset: kept forever. */
  retention: { recordingDays?: number; mediaDays?: number };
}

/** The setting names, each an environment variable and a CLI flag (`--port`, `--data-dir`, …). */
export const settings = {
  port: { env: "SWITCHBOARD_PORT", flag: "--port <port>", help: "TCP port to listen on (default 8080)" },
  host: { env: "SWITCHBOARD_HOST", flag: "--host <host>", help: "address to listen on (default 127.0.0.1)" },
  dataDir: { env: "SWITCHBOARD_DATA_DIR", flag: "--data-dir <dir>", help: "where the SQLite file, blobs and admin token live (default ./data)" },
  publicUrl: { env: "SWITCHBOARD_PUBLIC_URL", flag: "--public-url <url>", help: "the base URL clients reach the server at, for publicUrl/mp3Url links and the served documents (default: from the request)" },
  trustProxy: { env: "SWITCHBOARD_TRUST_PROXY", flag: "--trust-proxy <proxies>", help: "believe X-Forwarded-Proto/-Host/-For from these peers: true (any), or comma-separated addresses and CIDRs (default: none)" },
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
  recordingMaxBytes: { env: "SWITCHBOARD_RECORDING_MAX_BYTES", flag: "--recording-max-bytes <bytes>", help: "largest call-recording upload in bytes (default 67108864, 64 MiB)" },
  planName: { env: "SWITCHBOARD_PLAN_NAME", flag: "--plan-name <name>", help: "name of the default billing plan (default \"Pay As You Go\")" },
  planMonthlyCredits: { env: "SWITCHBOARD_PLAN_MONTHLY_CREDITS", flag: "--plan-monthly-credits <credits>", help: "plan credits per UTC month of the default plan (default 0)" },
  planCreditsPerCallMinute: { env: "SWITCHBOARD_PLAN_CREDITS_PER_CALL_MINUTE", flag: "--plan-credits-per-call-minute <credits>", help: "credits per started call minute, default plan (default 1)" },
  planCreditsPerText: { env: "SWITCHBOARD_PLAN_CREDITS_PER_TEXT", flag: "--plan-credits-per-text <credits>", help: "credits per text sent, default plan (default 1)" },
  callerIdCodeLength: { env: "SWITCHBOARD_CALLER_ID_CODE_LENGTH", flag: "--caller-id-code-length <digits>", help: "digits in a caller-ID verification code, 4-10 (default 6)" },
  callerIdCodeTtlSeconds: { env: "SWITCHBOARD_CALLER_ID_CODE_TTL_SECONDS", flag: "--caller-id-code-ttl-seconds <s>", help: "how long a verification code works (default 600)" },
  callerIdResendSeconds: { env: "SWITCHBOARD_CALLER_ID_RESEND_SECONDS", flag: "--caller-id-resend-seconds <s>", help: "one verification call per number per this many seconds (default 60)" },
  callerIdSendsPerHour: { env: "SWITCHBOARD_CALLER_ID_SENDS_PER_HOUR", flag: "--caller-id-sends-per-hour <n>", help: "verification calls per account per hour (default 20)" },
  callsWebhookUrl: { env: "SWITCHBOARD_CALLS_WEBHOOK_URL", flag: "--calls-webhook-url <url>", help: "POST verification calls, calls and texts to this URL (default: the sandbox simulator takes them)" },
  callsWebhookSecret: { env: "SWITCHBOARD_CALLS_WEBHOOK_SECRET", flag: "--calls-webhook-secret <secret>", help: "HMAC-SHA256 key of the webhook signature (16+ characters; required with the URL)" },
  callsWebhookTimeoutMs: { env: "SWITCHBOARD_CALLS_WEBHOOK_TIMEOUT_MS", flag: "--calls-webhook-timeout-ms <ms>", help: "give up on a webhook request after this long and retry (default 10000)" },
  callsMaxAttempts: { env: "SWITCHBOARD_CALLS_MAX_ATTEMPTS", flag: "--calls-max-attempts <n>", help: "delivery attempts per call before it is FAILED (default 8)" },
  callsLeaseSeconds: { env: "SWITCHBOARD_CALLS_LEASE_SECONDS", flag: "--calls-lease-seconds <s>", help: "a delivery claimed by a node that stopped (crashed) is made by another after this long; more than the webhook timeout (default: the timeout + 60 s)" },
  shutdownDelaySeconds: { env: "SWITCHBOARD_SHUTDOWN_DELAY_SECONDS", flag: "--shutdown-delay-seconds <s>", help: "after SIGTERM, keep accepting connections this long while /readyz answers 503 (default 0)" },
  shutdownGraceSeconds: { env: "SWITCHBOARD_SHUTDOWN_GRACE_SECONDS", flag: "--shutdown-grace-seconds <s>", help: "then give requests in flight this long before cutting them (default 15)" },
  metricsToken: { env: "SWITCHBOARD_METRICS_TOKEN", flag: "--metrics-token <token>", help: "bearer token /metrics asks for (16+ characters; default: /metrics needs none)" },
  recordingRetentionDays: { env: "SWITCHBOARD_RECORDING_RETENTION_DAYS", flag: "--recording-retention-days <days>", help: "remove call recordings older than this many days (default: keep forever)" },
  mediaRetentionDays: { env: "SWITCHBOARD_MEDIA_RETENTION_DAYS", flag: "--media-retention-days <days>", help: "remove media files older than this many days (default: keep forever)" },
  simulatorDelayMs: { env: "SWITCHBOARD_SIMULATOR_DELAY_MS", flag: "--simulator-delay-ms <ms>", help: "without a webhook: the sandbox simulator reports a call's or text's outcome this long after taking it (default 2000)" },
} as const;

export type SettingName = keyof typeof settings;
export type RawSettings = Partial<Record<SettingName, string>>;

export class ConfigError extends Error {}

/** A problem with one setting, in the words every such message uses: the variable, the flag, why. */
export function settingError(name: SettingName, why: string): ConfigError {
  return new ConfigError(`${settings[name].env} (${settings[name].flag.split(" ")[0]}): ${why}`);
}

const logLevels: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** Flags win over the environment; absent values take the embedded-mode defaults. */
export function loadConfig(flags: RawSettings = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const raw = (name: SettingName): string | undefined => {
    const value = flags[name] ?? env[settings[name].env];
    return value === undefined || value === "" ? undefined : value;
  };
  const fail = (name: SettingName, why: string): never => {
    throw settingError(name, why);
  };

  const portText = raw("port") ?? "8080";
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535)) fail("port", `"${portText}" is not a port number (0-65535)`);

  /** An absolute http(s) URL, parsed as clients will parse it. */
  const httpUrl = (name: SettingName): string | undefined => {
    const text = raw(name);
    if (text === undefined) return undefined;
    let parsed: URL | undefined;
    try {
      parsed = new URL(text);
    } catch {
      fail(name, `"${text}" is not an absolute URL`);
    }
    if (parsed!.protocol !== "http:" && parsed!.protocol !== "https:") fail(name, `"${text}" must be an http:// or https:// URL`);
    return text;
  };

  const publicUrl = httpUrl("publicUrl");
  if (publicUrl !== undefined && /[?#]/.test(publicUrl)) fail("publicUrl", `"${publicUrl}" must not have a query or fragment: links are built by appending paths`);

  const trustProxy = trustedProxies(raw("trustProxy"), (why) => fail("trustProxy", why));

  const host = raw("host") ?? "127.0.0.1";
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(host)) fail("host", `"${host}" is not a host name or IP address`);

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
  if (blobUrl !== undefined && !parseS3BlobUrl(blobUrl)) fail("blobUrl", `"${blobUrl}" is not an s3://bucket[/prefix] URL (leave it unset for local files)`);

  const s3Endpoint = httpUrl("s3Endpoint");
  const s3AccessKeyId = raw("s3AccessKeyId");
  const s3SecretAccessKey = raw("s3SecretAccessKey");
  if ((s3AccessKeyId === undefined) !== (s3SecretAccessKey === undefined)) {
    fail(s3AccessKeyId === undefined ? "s3AccessKeyId" : "s3SecretAccessKey", "set both S3 keys, or neither to use the AWS SDK's own credentials");
  }

  const pathStyle = raw("s3ForcePathStyle");
  if (pathStyle !== undefined && pathStyle !== "true" && pathStyle !== "false") fail("s3ForcePathStyle", `"${pathStyle}" must be true or false`);

  const whole = (name: SettingName, fallback: number, min: number, max: number): number => {
    const text = raw(name) ?? String(fallback);
    const value = /^\d{1,15}$/.test(text) ? Number(text) : NaN;
    if (!(value >= min && value <= max)) fail(name, `"${text}" is not a whole number from ${min} to ${max}`);
    return value;
  };

  const days = (name: SettingName): number | undefined => (raw(name) === undefined ? undefined : whole(name, 0, 1, 36_500));

  const metricsToken = raw("metricsToken");
  if (metricsToken !== undefined && metricsToken.length < 16) fail("metricsToken", "must be at least 16 characters");

  const credits = (name: SettingName, fallback: string, max: number): number => {
    const text = raw(name) ?? fallback;
    const value = /^\d{1,10}(\.\d{1,4})?$/.test(text) ? Number(text) : NaN;
    if (!(value <= max)) fail(name, `"${text}" is not a number of credits from 0 to ${max} with at most 4 decimals`);
    return Math.round(value * unitsPerCredit);
  };
  const planName = raw("planName") ?? "Pay As You Go";
  if (planName.length > 255) fail("planName", "must be at most 255 characters");

  const webhookUrl = httpUrl("callsWebhookUrl");
  const webhookSecret = raw("callsWebhookSecret");
  if (webhookUrl !== undefined && webhookSecret === undefined) fail("callsWebhookSecret", "is required with SWITCHBOARD_CALLS_WEBHOOK_URL, to sign its requests");
  if (webhookSecret !== undefined && webhookSecret.length < 16) fail("callsWebhookSecret", "must be at least 16 characters");
  if (webhookSecret !== undefined && webhookUrl === undefined) fail("callsWebhookSecret", "has no use without SWITCHBOARD_CALLS_WEBHOOK_URL");
  const webhookTimeoutMs = whole("callsWebhookTimeoutMs", 10_000, 1, 600_000);
  // A lease shorter than an attempt could run out while the attempt is still under way, and a
  // second node would make the same delivery.
  const leaseMs = whole("callsLeaseSeconds", Math.ceil((webhookTimeoutMs + 60_000) / 1000), 1, 86_400) * 1000;
  if (leaseMs <= webhookTimeoutMs) fail("callsLeaseSeconds", `must be longer than the webhook timeout (${webhookTimeoutMs} ms)`);

  return {
    port,
    host,
    dataDir: path.resolve(raw("dataDir") ?? "./data"),
    publicUrl: publicUrl?.replace(/\/+$/, ""),
    trustProxy,
    adminToken,
    databaseUrl,
    logLevel,
    blobUrl,
    s3: {
      endpoint: s3Endpoint,
      region: raw("s3Region"),
      accessKeyId: s3AccessKeyId,
      secretAccessKey: s3SecretAccessKey,
      forcePathStyle: pathStyle === undefined ? undefined : pathStyle === "true",
    },
    mediaMaxBytes: whole("mediaMaxBytes", 25 * 1024 * 1024, 1, 2 ** 40),
    recordingMaxBytes: whole("recordingMaxBytes", 64 * 1024 * 1024, 1, 2 ** 31 - 1),
    defaultPlan: {
      name: planName,
      monthlyCredits: credits("planMonthlyCredits", "0", maxPlanCredits),
      creditsPerCallMinute: credits("planCreditsPerCallMinute", "1", maxPlanRate),
      creditsPerText: credits("planCreditsPerText", "1", maxPlanRate),
    },
    callerIds: {
      codeLength: whole("callerIdCodeLength", 6, 4, 10),
      codeTtlSeconds: whole("callerIdCodeTtlSeconds", 600, 1, 86_400),
      resendIntervalSeconds: whole("callerIdResendSeconds", 60, 0, 86_400),
      sendsPerHour: whole("callerIdSendsPerHour", 20, 1, 1_000_000),
    },
    calls: {
      webhookUrl,
      webhookSecret,
      webhookTimeoutMs,
      maxAttempts: whole("callsMaxAttempts", 8, 1, 100),
      simulatorDelayMs: whole("simulatorDelayMs", 2_000, 0, 3_600_000),
      leaseMs,
    },
    shutdown: {
      delayMs: whole("shutdownDelaySeconds", 0, 0, 3600) * 1000,
      graceMs: whole("shutdownGraceSeconds", 15, 0, 3600) * 1000,
    },
    metricsToken,
    retention: { recordingDays: days("recordingRetentionDays"), mediaDays: days("mediaRetentionDays") },
  };
}

/** The names proxy-addr (Fastify's trustProxy) gives to address ranges. */
const proxyRangeNames = ["loopback", "linklocal", "uniquelocal"];

/**
 * A hop count is not offered: with one, Fastify cannot tell a proxy from a client that sends the
 * headers itself, so it never believes X-Forwarded-Host or -Proto.
 */
function trustedProxies(text: string | undefined, fail: (why: string) => never): boolean | string[] {
  if (text === undefined || text === "false") return false;
  if (text === "true") return true;
  if (/^\d+$/.test(text)) fail(`"${text}" looks like a hop count, which cannot tell a proxy from a client: give the proxies' addresses or CIDRs, or true`);
  const entries = text.split(",").map((entry) => entry.trim());
  for (const entry of entries) {
    if (proxyRangeNames.includes(entry)) continue;
    const [address = "", prefix, ...rest] = entry.split("/");
    const version = isIP(address);
    const bits = version === 4 ? 32 : 128;
    const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (version === 0 || !validPrefix || rest.length > 0) {
      fail(`"${entry}" is not an IP address, a CIDR or one of ${proxyRangeNames.join(", ")}: give true, false, or the proxies' addresses separated by commas`);
    }
  }
  return entries;
}
