import type { FastifyInstance } from "fastify";
import { adminTokenDigest, ensureAdminToken } from "./admin-token.js";
import { AudioConverter } from "./audio/audio-converter.js";
import { createBlobStore } from "./blobs/index.js";
import { settingError, type Config } from "./config.js";
import { prepareDataDir } from "./data-dir.js";
import { openDatabase, type Database } from "./db/database.js";
import { ensureDemoAccount } from "./demo-account.js";
import { BatchedOutput } from "./log-output.js";
import { buildApp } from "./server.js";
import { stopOnSignals } from "./shutdown.js";

/** `switchboard serve`: migrate, listen, make sure there is someone to log in as, stop cleanly. */
export async function serve(config: Config): Promise<void> {
  // The data directory holds the SQLite file (and its generated admin token) and local blobs.
  if (!config.databaseUrl || !config.blobUrl) prepareDataDir(config.dataDir);
  const database = await openReachableDatabase(config);
  await database.migrate();
  const blobs = await createBlobStore(config);
  const converter = new AudioConverter();
  const { app, services, startDraining } = await buildApp({
    config,
    logStream: new BatchedOutput(1),
    database,
    blobs,
    converter,
    adminToken: adminTokenDigest(config.adminToken, config.dataDir, database),
    deliverCalls: true,
    sweepBlobs: true,
    sweepRetention: true,
  });

  const address = await listen(app, config);
  stopOnSignals(
    {
      app,
      log: app.log,
      startDraining,
      abandonUploads: () => blobs.abandonWrites(),
      release: async () => {
        await converter.close();
        await database.close();
      },
    },
    config.shutdown,
  );
  // After listening: a node that cannot listen must not create (and never show) the demo login
  // or the admin token.
  const demo = await ensureDemoAccount(services);
  const base = config.publicUrl ?? address;
  const adminToken = await ensureAdminToken(config.adminToken, config.dataDir, database, base);

  const lines = [
    `Switchboard is serving the CallFire API v2 at ${base}/v2 (${database.dialect}, data in ${config.dataDir})`,
    `  API reference: ${base}/docs   Swagger: ${base}/v2/api-docs/swagger.json   operator API reference: ${base}/admin/docs`,
    `  web console: ${base}/console (sign in with an account's email and password)`,
    config.calls.webhookUrl
      ? `  calls, texts and verification calls: POSTed to the webhook at ${new URL(config.calls.webhookUrl).host}`
      : "  calls, texts and verification calls: placed by the sandbox simulator (set SWITCHBOARD_CALLS_WEBHOOK_URL to deliver them to your platform)",
    `  ${adminToken}`,
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

/** The configured database, answering; or one line saying which setting to fix. */
export async function openReachableDatabase(config: Config): Promise<Database> {
  try {
    const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
    await database.ping();
    return database;
  } catch (error) {
    const reason = (error as Error).message;
    if (!config.databaseUrl) throw settingError("dataDir", `cannot open the SQLite database in ${config.dataDir} (${reason})`);
    const url = new URL(config.databaseUrl);
    throw settingError(
      "databaseUrl",
      `cannot use PostgreSQL at ${url.host}${url.pathname} (${reason}): check that it is running and reachable, and the URL's user, password and database`,
    );
  }
}

async function listen(app: FastifyInstance, config: Config): Promise<string> {
  try {
    return await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    const where = `${config.host}:${config.port}`;
    switch ((error as NodeJS.ErrnoException).code) {
      case "EADDRINUSE":
        throw settingError("port", `${where} is already in use by another program: stop it, or choose another port`);
      case "EACCES":
        throw settingError("port", `this user may not listen on ${where}: choose a port above 1023`);
      case "EADDRNOTAVAIL":
      case "ENOTFOUND":
        throw settingError("host", `${config.host} is not an address of this machine: use 127.0.0.1, 0.0.0.0 or one of its addresses`);
      default:
        throw error;
    }
  }
}
