import { randomBytes } from "node:crypto";
import http from "node:http";
import Fastify, { type FastifyInstance, type RouteOptions } from "fastify";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { adminAccountRoutes } from "./admin/accounts.js";
import { adminBillingRoutes } from "./admin/billing.js";
import { adminCallRoutes } from "./admin/calls.js";
import { adminLoginLockoutRoutes } from "./admin/login-lockouts.js";
import { adminMediaRoutes } from "./admin/media.js";
import { adminOutboxRoutes } from "./admin/outbox.js";
import { adminTextRoutes } from "./admin/texts.js";
import { callRecordingRoutes } from "./api/call-recordings.js";
import { callRoutes } from "./api/calls.js";
import { textRoutes } from "./api/texts.js";
import { meAccountRoutes } from "./api/me-account.js";
import { meBillingRoutes } from "./api/me-billing.js";
import { meApiCredentialRoutes } from "./api/me-api-credentials.js";
import { meCallerIdRoutes } from "./api/me-callerids.js";
import { mediaRoutes } from "./api/media.js";
import type { AudioConverter } from "./audio/audio-converter.js";
import type { BlobStore } from "./blobs/blob-store.js";
import type { Config } from "./config.js";
import { consoleApiRoutes } from "./console/console-api.js";
import { installWebPages } from "./console/web-pages.js";
import type { Database } from "./db/database.js";
import { CallDeliveryWorker, deliveryOptions } from "./delivery/call-delivery-worker.js";
import { silentLog, type DeliveryLog } from "./delivery/call-transport.js";
import { SimulatedPlatform, SimulatorTransport } from "./delivery/simulator.js";
import { WebhookCallTransport } from "./delivery/webhook-transport.js";
import { BadRequest } from "./errors.js";
import { requireBasicAuth } from "./http/basic-auth.js";
import { fixedDigest, requireBearer } from "./http/bearer-auth.js";
import { answerClientError, refuseExpectation, refuseWithoutHost } from "./http/client-errors.js";
import { installAdminDocuments } from "./http/admin-documents.js";
import { installContractDocuments } from "./http/contract-documents.js";
import { bodyLimit, formatSchemaErrors, installErrorHandling, renderFrameworkError } from "./http/error-handler.js";
import { registerDatabaseGauges } from "./http/database-gauges.js";
import { installOperations } from "./http/operations.js";
import { Metrics, measuredConverter } from "./metrics.js";
import { installPartialResponses } from "./http/partial-responses.js";
import { AccessLog, requestLogSerializers } from "./http/request-log.js";
import { sharedSchemas } from "./http/schemas.js";
import { refuseNulInJson, strictValidators } from "./http/validation.js";
import { AccountService } from "./services/accounts.js";
import { ApiCredentialService } from "./services/api-credentials.js";
import { BillingService } from "./services/billing.js";
import { CallOutbox } from "./services/call-outbox.js";
import { CallRecordingService } from "./services/call-recordings.js";
import { CallSender } from "./services/call-sending.js";
import { forgetExpiredIdempotencyKeys } from "./services/sending.js";
import { CallService } from "./services/calls.js";
import { BlobSweeper } from "./services/blob-sweeper.js";
import { RetentionSweeper } from "./services/retention-sweeper.js";
import { TextSender } from "./services/text-sending.js";
import { TextService } from "./services/texts.js";
import { CallerIdService } from "./services/caller-ids.js";
import { ConsoleSessionService } from "./services/console-sessions.js";
import { MediaService } from "./services/media.js";
import { Authenticator, defaultAuthenticatorOptions, type AuthenticatorOptions } from "./services/authenticator.js";
import { LoginThrottle } from "./services/login-throttle.js";

export interface AppDependencies {
  config: Config;
  database: Database;
  blobs: BlobStore;
  converter: AudioConverter;
  /** The operator's bearer token, or the SHA-256 of the current one (src/admin-token.ts). */
  adminToken: string | (() => Promise<Buffer | undefined>);
  authenticator?: Partial<AuthenticatorOptions>;
  /** Where logs go (default stdout); tests read them to check what is never logged. */
  logStream?: { write(line: string): void };
  /** Sees every route as it is added, with its schemas (the fuzz test derives /admin/v1 requests from them). */
  onRoute?: (route: RouteOptions) => void;
  /** Run the call-delivery worker while the app is up (`serve` does; tests call it by hand). */
  deliverCalls?: boolean;
  /** Sweep what crashed uploads left behind while the app is up (`serve` does; tests call it by hand). */
  sweepBlobs?: boolean;
  /** Remove what is past its retention while the app is up (`serve` does; tests call it by hand). */
  sweepRetention?: boolean;
  now?: () => number;
}

export interface Services {
  accounts: AccountService;
  credentials: ApiCredentialService;
  authenticator: Authenticator;
  loginThrottle: LoginThrottle;
  media: MediaService;
  callerIds: CallerIdService;
  outbox: CallOutbox;
  callDelivery: CallDeliveryWorker;
  billing: BillingService;
  calls: CallService;
  callSender: CallSender;
  texts: TextService;
  textSender: TextSender;
  recordings: CallRecordingService;
  consoleSessions: ConsoleSessionService;
  blobSweeper: BlobSweeper;
  retention: RetentionSweeper;
  metrics: Metrics;
}


export interface ServicePorts {
  database: Database;
  blobs: BlobStore;
  converter: AudioConverter;
  config: Config;
  authenticator?: Partial<AuthenticatorOptions>;
  /** The clock of caller-ID codes, throttles, call delivery and billing months (tests move it). */
  now?: () => number;
  /** Where call delivery and the blob sweeper log (and the simulator its verification calls, with their codes). */
  log?: DeliveryLog;
  /** What the services count (served at /metrics by buildApp; the CLI's go nowhere). */
  metrics?: Metrics;
}

/** The domain services on the given ports; the CLI uses them without any HTTP. */
export function createServices({ database, blobs, config, authenticator: authenticatorOptions, now = Date.now, log = silentLog, metrics = new Metrics(), ...ports }: ServicePorts): Services {
  const converter = measuredConverter(ports.converter, metrics);
  const accounts = new AccountService(database.db, database.dialect, blobs);
  const credentials = new ApiCredentialService(database.db);
  const authOptions = { ...defaultAuthenticatorOptions, ...authenticatorOptions };
  const loginThrottle = new LoginThrottle(database.db, authOptions, metrics, database.notices);
  const authenticator = new Authenticator(accounts, credentials, loginThrottle, authOptions, database.notices);
  const media = new MediaService(database.db, blobs, converter, { maxBytes: config.mediaMaxBytes, dialect: database.dialect, now, metrics });
  const callerIds = new CallerIdService(database.db, database.dialect, config.callerIds, now, metrics);
  const outbox = new CallOutbox(database.db, database.dialect, now);
  const billing = new BillingService(database.db, database.dialect, config.defaultPlan, now);
  const recordings = new CallRecordingService(database.db, blobs, converter, { maxBytes: config.recordingMaxBytes, now, metrics });
  const calls = new CallService(database.db, database.dialect, billing, recordings, now);
  const texts = new TextService(database.db, billing, now);
  const callSender = new CallSender(database.db, billing, callerIds);
  const textSender = new TextSender(database.db, billing, callerIds);

  const { webhookUrl, webhookSecret, webhookTimeoutMs, simulatorDelayMs } = config.calls;
  // No request to take a host from: links point at the configured public URL, else the listen address.
  const publicBase = config.publicUrl ?? `http://${config.host}:${config.port}`;
  const transport =
    webhookUrl && webhookSecret
      ? new WebhookCallTransport(webhookUrl, webhookSecret, webhookTimeoutMs, metrics)
      : new SimulatorTransport(database.db, log, simulatorDelayMs, now);
  const simulator = new SimulatedPlatform(database.db, blobs, calls, texts, recordings, publicBase);
  const callDelivery = new CallDeliveryWorker(outbox, transport, simulator, { calls, texts }, log, deliveryOptions(config.calls), () =>
    forgetExpiredIdempotencyKeys(database.db, now()),
    metrics,
  );
  const consoleSessions = new ConsoleSessionService(database.db, now);
  const blobSweeper = new BlobSweeper(database.db, blobs, log, { now, blobsIntervalMs: 60 * 60_000, uploadsIntervalMs: 60_000, batchSize: 500 });
  const { recordingDays, mediaDays } = config.retention;
  const retention = new RetentionSweeper(database.db, database.dialect, blobs, log, { now, recordingDays, mediaDays, intervalMs: 60 * 60_000, batchSize: 500 }, metrics);
  return { accounts, credentials, authenticator, loginThrottle, media, callerIds, outbox, callDelivery, billing, calls, callSender, texts, textSender, recordings, consoleSessions, blobSweeper, retention, metrics };
}

/**
 * Request ids (in logs and in 500 answers): a random prefix per process and a counter, unique
 * across nodes and restarts at a fraction of a randomUUID per request.
 */
function requestIds(): () => string {
  const prefix = randomBytes(6).toString("hex");
  let next = 0;
  return () => `${prefix}-${(next++).toString(36)}`;
}

/**
 * Builds the whole HTTP application on the given ports; it does not listen. `startDraining` is the
 * first step of stopping (src/shutdown.ts): /readyz answers 503 from then on and every response asks
 * its client to close the connection.
 */
export async function buildApp(deps: AppDependencies): Promise<{ app: FastifyInstance; services: Services; startDraining(): void }> {
  const { config, database, blobs } = deps;
  let draining = false;

  const app = Fastify({
    logger: {
      level: config.logLevel,
      stream: deps.logStream,
      serializers: requestLogSerializers,
    },
    logController: new AccessLog(),
    bodyLimit,
    // request.protocol and request.host (links, served documents) and request.ip (logs) believe
    // X-Forwarded-* only from these peers.
    trustProxy: config.trustProxy,
    genReqId: requestIds(),
    forceCloseConnections: "idle",
    schemaController: { compilersFactory: { buildValidator: strictValidators() } },
    schemaErrorFormatter: (errors, dataVar) => formatSchemaErrors(errors, dataVar),
    frameworkErrors: renderFrameworkError,
    clientErrorHandler: answerClientError,
    // Set on the raw response before Fastify sees it: cheaper than a hook on every request.
    serverFactory: (handler) =>
      http
        .createServer({ requireHostHeader: false }, (request, response) => {
          response.setHeader("X-Content-Type-Options", "nosniff");
          if (draining) response.setHeader("Connection", "close");
          if (!refuseWithoutHost(request, response)) handler(request, response);
        })
        .on("checkExpectation", refuseExpectation),
  }).withTypeProvider<TypeBoxTypeProvider>();
  if (deps.onRoute) app.addHook("onRoute", deps.onRoute);
  const services = createServices({ ...deps, log: app.log });
  // What the other nodes revoke, rotate and lift (PostgreSQL), while the app is up.
  app.addHook("onReady", () => database.notices.listen(app.log));
  app.addHook("onClose", () => database.notices.unlisten());
  if (deps.deliverCalls) app.addHook("onReady", async () => services.callDelivery.start());
  app.addHook("onClose", () => services.callDelivery.stop());
  if (deps.sweepBlobs) app.addHook("onReady", async () => services.blobSweeper.start());
  app.addHook("onClose", () => services.blobSweeper.stop());
  if (deps.sweepRetention) app.addHook("onReady", async () => services.retention.start());
  app.addHook("onClose", () => services.retention.stop());

  // The Java and C# SDKs send Content-Type: application/json on bodiless POSTs.
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (body === "") return done(null, undefined);
    parseJson(request, body as string, (error, value) => {
      if (error) return done(new BadRequest(`request body is not valid JSON: ${error.message}`));
      try {
        refuseNulInJson(body as string, value);
      } catch (refused) {
        return done(refused as Error);
      }
      done(null, value);
    });
  });
  // Any other type is welcome only without a body (`curl -d ''` sends a form type on a bodiless
  // POST); with one, say what to send rather than answer 415, which no CallFire SDK maps.
  app.addContentTypeParser("*", { parseAs: "buffer" }, (request, body, done) => {
    if ((body as Buffer).length === 0) return done(null, undefined);
    done(new BadRequest(`unsupported content type ${request.headers["content-type"] ?? "(none)"}: send application/json`));
  });

  installErrorHandling(app, services.metrics);
  installPartialResponses(app);
  for (const schema of sharedSchemas) app.addSchema(schema);
  await installContractDocuments(app, config.publicUrl);
  await installAdminDocuments(app, config.publicUrl);
  installOperations(
    app,
    [
      { name: "database", check: () => database.ping() },
      { name: "blobs", check: () => blobs.ping() },
    ],
    () => draining,
    { registry: services.metrics.registry, token: config.metricsToken },
  );
  registerDatabaseGauges(services.metrics.registry, database);

  await app.register(
    async (v2) => {
      requireBasicAuth(v2, services.authenticator, services.consoleSessions);
      await v2.register(meAccountRoutes);
      await v2.register(meApiCredentialRoutes, { credentials: services.credentials });
      await v2.register(meCallerIdRoutes, { callerIds: services.callerIds });
      await v2.register(mediaRoutes, { media: services.media, maxUploadBytes: config.mediaMaxBytes, publicUrl: config.publicUrl });
      await v2.register(meBillingRoutes, { billing: services.billing });
      await v2.register(callRecordingRoutes, { recordings: services.recordings, publicUrl: config.publicUrl });
      await v2.register(callRoutes, { calls: services.calls, callSender: services.callSender, publicUrl: config.publicUrl });
      await v2.register(textRoutes, { texts: services.texts, textSender: services.textSender, publicUrl: config.publicUrl });
    },
    { prefix: "/v2" },
  );

  await app.register(
    async (admin) => {
      const digest = typeof deps.adminToken === "string" ? fixedDigest(deps.adminToken) : deps.adminToken;
      admin.addHook("onRequest", requireBearer(digest, { message: "the operator API needs Authorization: Bearer <admin token>", realm: "switchboard-admin" }));
      await admin.register(adminAccountRoutes, { accounts: services.accounts });
      await admin.register(adminOutboxRoutes, { outbox: services.outbox });
      await admin.register(adminLoginLockoutRoutes, { loginThrottle: services.loginThrottle });
      await admin.register(adminBillingRoutes, { billing: services.billing });
      await admin.register(adminTextRoutes, { billing: services.billing, texts: services.texts });
      await admin.register(adminMediaRoutes, { media: services.media, publicUrl: config.publicUrl });
      await admin.register(adminCallRoutes, {
        calls: services.calls,
        recordings: services.recordings,
        recordingMaxBytes: config.recordingMaxBytes,
        publicUrl: config.publicUrl,
      });
    },
    { prefix: "/admin/v1" },
  );

  const { authenticator, consoleSessions: sessions, billing, outbox } = services;
  const sandbox = config.calls.webhookUrl === undefined;
  await app.register(consoleApiRoutes, { prefix: "/console/api", authenticator, sessions, billing, outbox, sandbox });
  await installWebPages(app);

  // Idle keep-alive connections are not closed here: a balancer may be sending a request on one
  // before it has noticed /readyz, and closing it under that request fails it. Each answers once
  // more with Connection: close, or is closed with the listener when the delay is over.
  const startDraining = () => {
    draining = true;
  };
  return { app, services, startDraining };
}
