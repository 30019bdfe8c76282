import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.js";

describe("configuration", () => {
  it("works with no settings at all: the embedded default", () => {
    const config = loadConfig({}, {});
    expect(config).toMatchObject({ port: 8080, host: "127.0.0.1", logLevel: "info", mediaMaxBytes: 25 * 1024 * 1024 });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.blobUrl).toBeUndefined();
    expect(config.shutdown).toEqual({ delayMs: 0, graceMs: 15_000 });
  });

  it("keeps recordings and media forever, and /metrics open, unless told otherwise", () => {
    expect(loadConfig({}, {})).toMatchObject({ retention: { recordingDays: undefined, mediaDays: undefined }, metricsToken: undefined });
    expect(loadConfig({ recordingRetentionDays: "90" }, { SWITCHBOARD_MEDIA_RETENTION_DAYS: "365", SWITCHBOARD_METRICS_TOKEN: "m".repeat(16) })).toMatchObject({
      retention: { recordingDays: 90, mediaDays: 365 },
      metricsToken: "m".repeat(16),
    });
  });

  it("lets flags win over the environment", () => {
    expect(loadConfig({ port: "9000" }, { SWITCHBOARD_PORT: "7000" }).port).toBe(9000);
    expect(loadConfig({}, { SWITCHBOARD_PORT: "7000" }).port).toBe(7000);
  });

  it.each([
    [{ host: "exa mple" }, 'SWITCHBOARD_HOST (--host): "exa mple" is not a host name or IP address'],
    [{ publicUrl: "https://api.example.com/?x=1" }, 'SWITCHBOARD_PUBLIC_URL (--public-url): "https://api.example.com/?x=1" must not have a query or fragment: links are built by appending paths'],
    [{ publicUrl: "ftp://example.com" }, 'SWITCHBOARD_PUBLIC_URL (--public-url): "ftp://example.com" must be an http:// or https:// URL'],
    [{ callsWebhookUrl: "http://exa mple.com/hook", callsWebhookSecret: "x".repeat(16) }, 'SWITCHBOARD_CALLS_WEBHOOK_URL (--calls-webhook-url): "http://exa mple.com/hook" is not an absolute URL'],
    [{ blobUrl: "s3://bucket/bad prefix" }, 'SWITCHBOARD_BLOB_URL (--blob-url): "s3://bucket/bad prefix" is not an s3://bucket[/prefix] URL (leave it unset for local files)'],
    [{ blobUrl: "s3://bucket/../escape" }, 'SWITCHBOARD_BLOB_URL (--blob-url): "s3://bucket/../escape" is not an s3://bucket[/prefix] URL (leave it unset for local files)'],
    [{ s3AccessKeyId: "AKIA" }, "SWITCHBOARD_S3_SECRET_ACCESS_KEY (--s3-secret-access-key): set both S3 keys, or neither to use the AWS SDK's own credentials"],
    [{ s3Endpoint: "minio:9000" }, 'SWITCHBOARD_S3_ENDPOINT (--s3-endpoint): "minio:9000" must be an http:// or https:// URL'],
    [{ trustProxy: "yes" }, 'SWITCHBOARD_TRUST_PROXY (--trust-proxy): "yes" is not an IP address, a CIDR or one of loopback, linklocal, uniquelocal: give true, false, or the proxies\' addresses separated by commas'],
    [{ trustProxy: "10.0.0.0/33" }, 'SWITCHBOARD_TRUST_PROXY (--trust-proxy): "10.0.0.0/33" is not an IP address, a CIDR or one of loopback, linklocal, uniquelocal: give true, false, or the proxies\' addresses separated by commas'],
    [{ trustProxy: "10.0.0.1," }, 'SWITCHBOARD_TRUST_PROXY (--trust-proxy): "" is not an IP address, a CIDR or one of loopback, linklocal, uniquelocal: give true, false, or the proxies\' addresses separated by commas'],
    [{ trustProxy: "2" }, 'SWITCHBOARD_TRUST_PROXY (--trust-proxy): "2" looks like a hop count, which cannot tell a proxy from a client: give the proxies\' addresses or CIDRs, or true'],
    [{ mediaMaxBytes: "25MB" }, 'SWITCHBOARD_MEDIA_MAX_BYTES (--media-max-bytes): "25MB" is not a whole number from 1 to 1099511627776'],
    [{ shutdownGraceSeconds: "1.5" }, 'SWITCHBOARD_SHUTDOWN_GRACE_SECONDS (--shutdown-grace-seconds): "1.5" is not a whole number from 0 to 3600'],
    [{ shutdownDelaySeconds: "-1" }, 'SWITCHBOARD_SHUTDOWN_DELAY_SECONDS (--shutdown-delay-seconds): "-1" is not a whole number from 0 to 3600'],
    [{ recordingRetentionDays: "0" }, 'SWITCHBOARD_RECORDING_RETENTION_DAYS (--recording-retention-days): "0" is not a whole number from 1 to 36500'],
    [{ mediaRetentionDays: "30d" }, 'SWITCHBOARD_MEDIA_RETENTION_DAYS (--media-retention-days): "30d" is not a whole number from 1 to 36500'],
    [{ mediaRetentionDays: "-7" }, 'SWITCHBOARD_MEDIA_RETENTION_DAYS (--media-retention-days): "-7" is not a whole number from 1 to 36500'],
    [{ metricsToken: "short" }, "SWITCHBOARD_METRICS_TOKEN (--metrics-token): must be at least 16 characters"],
  ])("refuses %j, naming the setting", (flags, message) => {
    expect(() => loadConfig(flags, {})).toThrow(new ConfigError(message));
  });

  it("believes no proxy unless told which", () => {
    expect(loadConfig({}, {}).trustProxy).toBe(false);
    expect(loadConfig({}, { SWITCHBOARD_TRUST_PROXY: "false" }).trustProxy).toBe(false);
    expect(loadConfig({}, { SWITCHBOARD_TRUST_PROXY: "true" }).trustProxy).toBe(true);
    expect(loadConfig({ trustProxy: "10.0.0.0/8, 192.168.1.7,fd00::/8 ,::1, loopback" }, {}).trustProxy).toEqual(["10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1", "loopback"]);
  });

  it("accepts S3 settings that are whole", () => {
    const config = loadConfig({ blobUrl: "s3://media-bucket/switchboard/prod", s3Endpoint: "http://127.0.0.1:9000", s3AccessKeyId: "a", s3SecretAccessKey: "b", s3ForcePathStyle: "true" }, {});
    expect(config.s3).toEqual({ endpoint: "http://127.0.0.1:9000", region: undefined, accessKeyId: "a", secretAccessKey: "b", forcePathStyle: true });
  });
});
