import { resolveAdminToken } from "./admin-token.js";
import { AudioConverter } from "./audio/audio-converter.js";
import { createBlobStore, FsBlobStore } from "./blobs/index.js";
import type { Config } from "./config.js";
import { openDatabase } from "./db/database.js";
import { ensureDemoAccount } from "./demo-account.js";
import { buildApp } from "./server.js";

const shutdownGraceMs = 30_000;
const staleUploadMs = 60 * 60_000;

/** `switchboard serve`: migrate, make sure there is someone to log in as, listen, stop cleanly. */
export async function serve(config: Config): Promise<void> {
  const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  await database.migrate();
  const blobs = await createBlobStore(config);
  // Uploads cut short by a crash leave temp files behind (S3 has a lifecycle rule for its tmp/).
  const staleUploads = blobs instanceof FsBlobStore ? await blobs.removeStaleUploads(staleUploadMs) : 0;
  const converter = new AudioConverter();
  const admin = resolveAdminToken(config.adminToken, config.dataDir);
  const { app, services } = await buildApp({ config, database, blobs, converter, adminToken: admin.token, deliverCalls: true });

  const demo = await ensureDemoAccount(services);
  const address = await app.listen({ port: config.port, host: config.host });
  if (staleUploads > 0) app.log.warn(`removed ${staleUploads} temporary upload file(s) left by an earlier run`);

  const stop = async (signal: string) => {
    app.log.info({ signal }, "shutting down: finishing in-flight requests");
    // In-flight requests get a grace period; past it the process goes anyway (every acknowledged
    // write is already committed, so nothing acknowledged is lost).
    const deadline = setTimeout(() => {
      app.log.error(`requests still running ${shutdownGraceMs / 1000} s after ${signal}; exiting`);
      process.exit(1);
    }, shutdownGraceMs);
    try {
      // close() stops accepting, waits for in-flight requests and then runs onClose hooks.
      await app.close();
      await converter.close();
      await database.close();
      clearTimeout(deadline);
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, "shutdown failed");
      process.exit(1);
    }
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  const base = config.publicUrl ?? address;

  const lines = [
    `Switchboard is serving the CallFire API v2 at ${base}/v2 (${database.dialect}, data in ${config.dataDir})`,
    `  API reference: ${base}/docs   Swagger: ${base}/v2/api-docs/swagger.json`,
    `  web console: ${base}/console (sign in with an account's email and password)`,
    config.calls.webhookUrl
      ? `  verification calls: POSTed to the webhook at ${new URL(config.calls.webhookUrl).host}`
      : "  verification calls: logged (set SWITCHBOARD_CALLS_WEBHOOK_URL to place them)",
    admin.file ? `  operator token: in ${admin.file} (Authorization: Bearer <token> on ${base}/admin/v1)` : "  operator token: from SWITCHBOARD_ADMIN_TOKEN",
  ];
  if (demo) {
    lines.push(
      "",
      "A demo account was created on this empty database:",
      `  login (account credentials): ${demo.email} / ${demo.password}`,
      `  API credential:              ${demo.username} / ${demo.credentialPassword}`,
      "Try it:",
      `  curl -u ${demo.username}:${demo.credentialPassword} ${base}/v2/me/account`,
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
