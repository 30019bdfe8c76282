#!/usr/bin/env node
import fs from "node:fs";
import path from "node:path";
import { Command, CommanderError, Option } from "commander";
import { AudioConverter } from "./audio/audio-converter.js";
import { createBlobStore } from "./blobs/index.js";
import { ConfigError, loadConfig, settings, type Config, type RawSettings, type SettingName } from "./config.js";
import { prepareDataDir } from "./data-dir.js";
import { sqliteFile, type Database } from "./db/database.js";
import { rotateAdminToken } from "./admin-token.js";
import type { ActionState, DeliveryType } from "./db/tables.js";
import { ApiError } from "./errors.js";
import { callResults, textResults, type CallResult, type TextResult } from "./services/actions.js";
import type { BillingSummary } from "./services/billing.js";
import { deliveryTypes } from "./services/call-outbox.js";
import { throttledUsername } from "./services/login-throttle.js";
import { openReachableDatabase, serve } from "./serve.js";
import { createServices, type Services } from "./server.js";

const program = new Command("switchboard").description("A self-hostable, CallFire API v2-compatible server");
// Usage errors throw (CommanderError) instead of exiting 1, so every error gets its exit code below.
// Set before any subcommand is added: each inherits it.
program.exitOverride();

/** Every setting is a flag too; its environment variable is the fallback. */
function withSettings(command: Command, names: SettingName[]): Command {
  for (const name of names) {
    command.addOption(new Option(settings[name].flag, settings[name].help).env(settings[name].env));
  }
  return command;
}

const storageSettings: SettingName[] = [
  "dataDir",
  "databaseUrl",
  "logLevel",
  "blobUrl",
  "s3Endpoint",
  "s3Region",
  "s3AccessKeyId",
  "s3SecretAccessKey",
  "s3ForcePathStyle",
];

/**
 * Runs `work` against the configured database, printing JSON or a human line. Only `migrate` (and
 * `serve`) may create the database: every other command run in the wrong folder, or without the
 * server's settings, would otherwise work on a new empty one and report nothing found.
 */
async function withServices<T>(
  options: RawSettings & { json?: boolean },
  work: (services: Services, database: Database) => Promise<T>,
  human: (result: T) => string,
  { createDatabase = false } = {},
): Promise<void> {
  const config = loadConfig(options);
  if (!config.databaseUrl) {
    if (createDatabase) prepareDataDir(config.dataDir);
    else if (!fs.existsSync(sqliteFile(config.dataDir))) throw missingDatabase(config);
  }
  const database = await openReachableDatabase(config);
  const converter = new AudioConverter();
  try {
    if (!createDatabase && !(await database.hasSchema())) throw missingDatabase(config);
    await database.migrate();
    const result = await work(createServices({ config, database, blobs: await createBlobStore(config), converter }), database);
    process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${human(result)}\n`);
  } finally {
    await converter.close();
    await database.close();
  }
}

withSettings(program.command("serve").description("serve the API (migrates first)"), Object.keys(settings) as SettingName[]).action(
  async (options: RawSettings) => serve(loadConfig(options)),
);

withSettings(program.command("migrate").description("bring the database schema up to date and exit"), storageSettings).action(
  async (options: RawSettings) => withServices(options, async () => ({ migrated: true }), () => "database is up to date", { createDatabase: true }),
);

/** `<noun> delete --id N`: one shape for every operator deletion. */
function deleteCommand(parent: Command, noun: string, description: string, remove: (services: Services, id: number) => Promise<unknown>): void {
  withSettings(
    parent.command("delete").description(description).requiredOption("--id <id>", `${noun} id`).option("--json", "print JSON"),
    storageSettings,
  ).action(async (options: RawSettings & { json?: boolean; id: string }) =>
    withServices(
      options,
      async (services) => {
        const id = idArgument(options.id, "--id");
        await remove(services, id);
        return { id, deleted: true };
      },
      (result) => `deleted ${noun} ${result.id}`,
    ),
  );
}

const account = program.command("account").description("manage accounts");

withSettings(
  account
    .command("create")
    .description("create an account")
    .requiredOption("--email <email>", "login email")
    .requiredOption("--password <password>", "login password (8+ characters)")
    .option("--name <name>")
    .option("--first-name <name>")
    .option("--last-name <name>")
    .option("--json", "print JSON"),
  storageSettings,
).action(async (options: RawSettings & { json?: boolean; email: string; password: string; name?: string; firstName?: string; lastName?: string }) =>
  withServices(
    options,
    (services) =>
      services.accounts.create({
        email: options.email,
        password: options.password,
        name: options.name,
        firstName: options.firstName,
        lastName: options.lastName,
      }),
    (created) => `created account ${created.id} (${created.email})`,
  ),
);

withSettings(
  withPaging(account.command("list"))
    .description("list accounts")
    .option("--json", "print JSON"),
  storageSettings,
).action(async (options: RawSettings & { json?: boolean; limit: string; offset: string }) =>
  withServices(
    options,
    (services) => services.accounts.list(pageArguments(options)),
    (page) =>
      [`${page.totalCount} account(s)`, ...page.items.map((a) => `${a.id}\t${a.email}\t${a.name ?? ""}`)].join("\n"),
  ),
);

withSettings(
  account
    .command("set-password")
    .description("set an account's login password")
    .requiredOption("--id <id>", "account id")
    .requiredOption("--password <password>", "new password (8+ characters)")
    .option("--json", "print JSON"),
  storageSettings,
).action(async (options: RawSettings & { json?: boolean; id: string; password: string }) =>
  withServices(
    options,
    async (services) => {
      const id = wholeNumber(options.id, 1, Number.MAX_SAFE_INTEGER, "--id");
      await services.accounts.setPassword(id, options.password);
      return { id, passwordChanged: true };
    },
    (result) => `password changed for account ${result.id}`,
  ),
);

for (const [action, disabled] of [["disable", true], ["enable", false]] as const) {
  withSettings(
    account
      .command(action)
      .description(
        disabled
          ? "disable an account: its login, API credentials and console sessions are refused (running servers: at once on PostgreSQL, within 10 s on SQLite)"
          : "enable a disabled account again",
      )
      .requiredOption("--id <id>", "account id")
      .option("--json", "print JSON"),
    storageSettings,
  ).action(async (options: RawSettings & { json?: boolean; id: string }) =>
    withServices(
      options,
      (services) => services.accounts.setDisabled(idArgument(options.id, "--id"), disabled),
      (changed) => `account ${changed.id} (${changed.email}) is ${changed.disabledAt === undefined ? "enabled" : `disabled since ${new Date(changed.disabledAt).toISOString()}`}`,
    ),
  );
}

deleteCommand(account, "account", "delete an account and everything of it (credentials, caller IDs, media, calls, texts, recordings, their files); its billing ledger is kept", (services, id) => services.accounts.delete(id));

const outbox = program.command("outbox").description("the verification calls queued and sent");

withSettings(
  withPaging(outbox.command("list"))
    .description("list calls, newest first, with their codes until they expire")
    .option("--account-id <id>", "only this account's calls")
    .option("--to <number>", "only calls to this number")
    .addOption(new Option("--status <status>", "only calls in this status").choices(["PENDING", "SENT", "FAILED"]))
    .addOption(new Option("--type <type>", "only deliveries of this type").choices(deliveryTypes))
    .option("--json", "print JSON"),
  storageSettings,
).action(
  async (
    options: RawSettings & { json?: boolean; accountId?: string; to?: string; status?: "PENDING" | "SENT" | "FAILED"; type?: DeliveryType; limit: string; offset: string },
  ) =>
    withServices(
      options,
      (services) =>
        services.outbox.list(
          {
            accountId: options.accountId === undefined ? undefined : wholeNumber(options.accountId, 1, Number.MAX_SAFE_INTEGER, "--account-id"),
            to: options.to,
            status: options.status,
            type: options.type,
          },
          pageArguments(options),
        ),
      (page) =>
        [
          `${page.totalCount} call(s)`,
          ...page.items.map((c) =>
            [c.id, c.accountId, c.to, c.status, c.code ?? "-", `${c.attempts} attempt(s)`, new Date(c.created).toISOString(), ...(c.lastError ? [c.lastError] : [])].join("\t"),
          ),
        ].join("\n"),
    ),
);

const lockout = program.command("lockout").description("logins refused after too many failed attempts");

withSettings(
  withPaging(lockout.command("list"))
    .description("list logins that are locked out, and until when")
    .option("--json", "print JSON"),
  storageSettings,
).action(async (options: RawSettings & { json?: boolean; limit: string; offset: string }) =>
  withServices(
    options,
    (services) => services.loginThrottle.list(pageArguments(options)),
    (page) =>
      [
        `${page.totalCount} lockout(s)`,
        ...page.items.map((l) => `${l.username}\t${l.failedAttempts} attempt(s)\tuntil ${new Date(l.lockedUntil).toISOString()}`),
      ].join("\n"),
  ),
);

withSettings(
  lockout
    .command("lift")
    .description("end a login's lockout, so its right password works again (running servers notice at once on PostgreSQL, within 10 s on SQLite)")
    .requiredOption("--username <login>", "account email (any case) or API-credential username")
    .option("--json", "print JSON"),
  storageSettings,
).action(async (options: RawSettings & { json?: boolean; username: string }) =>
  withServices(
    options,
    async (services) => {
      await services.loginThrottle.lift(options.username);
      return { username: throttledUsername(options.username), lifted: true };
    },
    (result) => `lifted the lockout of ${result.username}`,
  ),
);

withSettings(
  program
    .command("admin-token")
    .description("the operator's bearer token for /admin/v1")
    .command("rotate")
    .description("make a new admin token and print it; every running node takes it within seconds, no restart (not with SWITCHBOARD_ADMIN_TOKEN set)")
    .option("--json", "print JSON"),
  [...storageSettings, "adminToken"],
).action(async (options: RawSettings & { json?: boolean }) => {
  if (loadConfig(options).adminToken) {
    throw new ConfigError("the admin token comes from SWITCHBOARD_ADMIN_TOKEN (--admin-token): change it there on every node; rotate replaces only a generated one");
  }
  return withServices(
    options,
    async (_services, database) => rotateAdminToken(loadConfig(options).dataDir, database),
    (rotated) => `new admin token: ${rotated.token}${rotated.file ? ` (in ${rotated.file})` : " (stored hashed in the database)"}\nrunning nodes accept it within 5 s; the old one stops working`,
  );
});

withSettings(
  program
    .command("plan")
    .description("billing plans")
    .command("set")
    .description("set an account's billing plan (plan credits renew each UTC month)")
    .requiredOption("--account <id>", "account id")
    .requiredOption("--name <name>", "plan name")
    .requiredOption("--monthly-credits <credits>", "plan credits per month")
    .requiredOption("--credits-per-call-minute <credits>", "credits per started call minute")
    .requiredOption("--credits-per-text <credits>", "credits per text sent")
    .option("--json", "print JSON"),
  storageSettings,
).action(
  async (options: RawSettings & { json?: boolean; account: string; name: string; monthlyCredits: string; creditsPerCallMinute: string; creditsPerText: string }) =>
    withServices(
      options,
      (services) =>
        services.billing.setPlan(wholeNumber(options.account, 1, Number.MAX_SAFE_INTEGER, "--account"), {
          name: options.name,
          monthlyCredits: creditsArgument(options.monthlyCredits, "--monthly-credits"),
          creditsPerCallMinute: creditsArgument(options.creditsPerCallMinute, "--credits-per-call-minute"),
          creditsPerText: creditsArgument(options.creditsPerText, "--credits-per-text"),
        }),
      billingLine,
    ),
);

withSettings(
  program
    .command("credits")
    .description("pay-as-you-go credits")
    .command("add")
    .description("add pay-as-you-go credits to an account (a negative amount deducts)")
    .requiredOption("--account <id>", "account id")
    .requiredOption("--amount <credits>", "credits, at most 4 decimals")
    .option("--json", "print JSON"),
  storageSettings,
).action(async (options: RawSettings & { json?: boolean; account: string; amount: string }) =>
  withServices(
    options,
    (services) => services.billing.addCredits(wholeNumber(options.account, 1, Number.MAX_SAFE_INTEGER, "--account"), creditsArgument(options.amount, "--amount")),
    billingLine,
  ),
);

const callCommand = program.command("call").description("calls, as the operator's telephony reports them");

withSettings(
  callCommand
    .command("ingest")
    .description("record a finished call, charge it, and attach its recording (what a telephony hook runs)")
    .requiredOption("--account <id>", "account id")
    .requiredOption("--from <number>", "calling number, E.164 digits")
    .requiredOption("--to <number>", "called number, E.164 digits")
    .requiredOption("--start <time>", "when the call started: unix milliseconds or ISO 8601 (2026-11-28T09:30:00Z)")
    .requiredOption("--duration <seconds>", "call length in whole seconds")
    .option("--campaign-id <id>", "the broadcast the call belongs to")
    .option("--external-id <id>", "your id for the call: running again with it does not charge again")
    .option("--recording <file>", "MP3 or WAV file to attach (WAV is converted to MP3)")
    .option("--recording-name <name>", "recording name (default: the file name without its extension)")
    .option("--json", "print JSON"),
  [...storageSettings, "recordingMaxBytes", "publicUrl"],
).action(
  async (
    options: RawSettings & {
      json?: boolean;
      account: string;
      from: string;
      to: string;
      start: string;
      duration: string;
      campaignId?: string;
      externalId?: string;
      recording?: string;
      recordingName?: string;
    },
  ) =>
    withServices(
      options,
      async (services) => {
        const config = loadConfig(options);
        const file = options.recording;
        if (file !== undefined && !fs.statSync(file, { throwIfNoEntry: false })?.isFile()) throw new ConfigError(`--recording: ${file} is not a file`);
        const { call } = await services.calls.ingest(wholeNumber(options.account, 1, Number.MAX_SAFE_INTEGER, "--account"), {
          fromNumber: options.from,
          toNumber: options.to,
          startTime: timeArgument(options.start, "--start"),
          durationSeconds: wholeNumber(options.duration, 0, Number.MAX_SAFE_INTEGER, "--duration"),
          campaignId: options.campaignId === undefined ? undefined : wholeNumber(options.campaignId, 1, Number.MAX_SAFE_INTEGER, "--campaign-id"),
          externalId: options.externalId,
        });
        if (file === undefined) return { call };
        const name = options.recordingName ?? path.basename(file).replace(/\.[^.]*$/, "");
        // No request to take a host from: links point at the configured public URL, else the default listen address.
        const publicBase = config.publicUrl ?? `http://${config.host}:${config.port}`;
        // If this fails the call stays charged: run again with the same --external-id to attach only.
        // The same file again (a retried hook) answers the recording attached the first time.
        const { recording } = await services.recordings.attach(call.id, name, fs.createReadStream(file), publicBase);
        return { call, recording };
      },
      ({ call, recording }) =>
        [
          `call ${call.id} of account ${call.accountId}: ${call.charge.minutes} minute(s), ${call.charge.credits} credit(s) ` +
            `(${call.charge.planCredits} plan, ${call.charge.payAsYouGoCredits} pay-as-you-go)`,
          ...(recording ? [`recording ${recording.id} "${recording.name}": ${recording.state}, ${recording.lengthInSeconds} s, ${recording.mp3Url}`] : []),
        ].join("\n"),
    ),
);

withSettings(
  callCommand
    .command("outcome")
    .description("report how a sent call went: it is FINISHED and charged its started minutes, once (running again is safe)")
    .requiredOption("--id <id>", "call id")
    .addOption(new Option("--result <result>", "the call's result").choices([...callResults]).makeOptionMandatory())
    .requiredOption("--duration <seconds>", "how long it was connected, in whole seconds")
    .option("--finish-time <time>", "when it ended: unix milliseconds or ISO 8601 (default now)")
    .option("--caller-name <name>", "the caller name the platform saw")
    .option("--json", "print JSON"),
  storageSettings,
).action(async (options: RawSettings & { json?: boolean; id: string; result: CallResult; duration: string; finishTime?: string; callerName?: string }) =>
  withServices(
    options,
    async (services) =>
      (
        await services.calls.reportOutcome(wholeNumber(options.id, 1, Number.MAX_SAFE_INTEGER, "--id"), {
          result: options.result,
          durationSeconds: wholeNumber(options.duration, 0, Number.MAX_SAFE_INTEGER, "--duration"),
          finishTime: options.finishTime === undefined ? undefined : timeArgument(options.finishTime, "--finish-time"),
          callerName: options.callerName,
        })
      ).call,
    (call) => `call ${call.id}: ${call.result}, ${call.durationSeconds} s, ${call.charge?.minutes ?? 0} minute(s) charged, ${call.charge?.credits ?? 0} credit(s)`,
  ),
);

const actionStates: ActionState[] = ["READY", "SELECTED", "FINISHED"];

withSettings(
  withPaging(callCommand.command("list"))
    .description("list calls of every account (or one), newest first")
    .option("--account-id <id>", "only this account's calls")
    .addOption(new Option("--state <state>", "only calls in this state").choices(actionStates))
    .option("--interval-begin <time>", "only calls that started at or after this time: unix milliseconds or ISO 8601")
    .option("--interval-end <time>", "only calls that started before this time: unix milliseconds or ISO 8601")
    .option("--json", "print JSON"),
  storageSettings,
).action(async (options: RawSettings & ActionListOptions) =>
  withServices(
    options,
    (services) => services.calls.adminList(actionFilter(options), pageArguments(options)),
    (page) =>
      [
        `${page.totalCount} call(s)`,
        ...page.items.map((c) =>
          [c.id, c.accountId, c.fromNumber, c.toNumber, c.state, c.result ?? "-", c.startTime === undefined ? "-" : new Date(c.startTime).toISOString(), `${c.durationSeconds ?? 0} s`].join("\t"),
        ),
      ].join("\n"),
  ),
);

withSettings(
  callCommand.command("get").description("show a call of any account").requiredOption("--id <id>", "call id").option("--json", "print JSON"),
  storageSettings,
).action(async (options: RawSettings & { json?: boolean; id: string }) =>
  withServices(
    options,
    (services) => services.calls.adminCall(idArgument(options.id, "--id")),
    (c) =>
      `call ${c.id} of account ${c.accountId}: ${c.fromNumber} -> ${c.toNumber}, ${c.state}${c.result ? ` ${c.result}` : ""}` +
      (c.charge ? `, ${c.charge.minutes} minute(s), ${c.charge.credits} credit(s)` : ""),
  ),
);

deleteCommand(callCommand, "call", "delete a call with its recordings and their files (what it was charged stays in the ledger)", (services, id) => services.calls.delete(id));

const recordingCommand = program.command("recording").description("call recordings");

withSettings(
  withPaging(recordingCommand.command("list"))
    .description("list recordings of every account (or of one account or call), newest first")
    .option("--account-id <id>", "only this account's recordings")
    .option("--call-id <id>", "only this call's recordings")
    .option("--json", "print JSON"),
  [...storageSettings, "publicUrl"],
).action(async (options: RawSettings & { json?: boolean; accountId?: string; callId?: string; limit: string; offset: string }) =>
  withServices(
    options,
    (services) =>
      services.recordings.adminList(
        { accountId: optionalId(options.accountId, "--account-id"), callId: optionalId(options.callId, "--call-id") },
        pageArguments(options),
        publicBaseOf(options),
      ),
    (page) =>
      [
        `${page.totalCount} recording(s)`,
        ...page.items.map((r) => [r.id, r.accountId, `call ${r.callId}`, r.name, r.state, `${r.lengthInSeconds ?? 0} s`, r.mp3Url].join("\t")),
      ].join("\n"),
  ),
);

withSettings(
  recordingCommand.command("get").description("show a recording of any account").requiredOption("--id <id>", "recording id").option("--json", "print JSON"),
  [...storageSettings, "publicUrl"],
).action(async (options: RawSettings & { json?: boolean; id: string }) =>
  withServices(
    options,
    (services) => services.recordings.adminGet(idArgument(options.id, "--id"), publicBaseOf(options)),
    (r) => `recording ${r.id} "${r.name}" of call ${r.callId} (account ${r.accountId}): ${r.state}, ${r.lengthInSeconds ?? 0} s, ${r.mp3Url}`,
  ),
);

deleteCommand(recordingCommand, "recording", "delete a recording and its file (the call and its charge stay)", (services, id) => services.recordings.delete(id));

const mediaCommand = program.command("media").description("uploaded media files");

withSettings(
  withPaging(mediaCommand.command("list"))
    .description("list media of every account (or one), newest first")
    .option("--account-id <id>", "only this account's media")
    .option("--json", "print JSON"),
  [...storageSettings, "publicUrl"],
).action(async (options: RawSettings & { json?: boolean; accountId?: string; limit: string; offset: string }) =>
  withServices(
    options,
    (services) => services.media.adminList({ accountId: optionalId(options.accountId, "--account-id") }, pageArguments(options), publicBaseOf(options)),
    (page) =>
      [
        `${page.totalCount} media file(s)`,
        ...page.items.map((m) => [m.id, m.accountId, m.name, m.mediaType, `${m.lengthInBytes} bytes`, m.publicUrl].join("\t")),
      ].join("\n"),
  ),
);

deleteCommand(mediaCommand, "media", "delete a media file, its converted copies and their files (its public URL then answers 404)", (services, id) => services.media.delete(id));

const textCommand = program.command("text").description("texts, as the operator's platform reports them");

withSettings(
  withPaging(textCommand.command("list"))
    .description("list texts of every account (or one), newest first")
    .option("--account-id <id>", "only this account's texts")
    .addOption(new Option("--state <state>", "only texts in this state").choices(actionStates))
    .option("--interval-begin <time>", "only texts created at or after this time: unix milliseconds or ISO 8601")
    .option("--interval-end <time>", "only texts created before this time: unix milliseconds or ISO 8601")
    .option("--json", "print JSON"),
  storageSettings,
).action(async (options: RawSettings & ActionListOptions) =>
  withServices(
    options,
    (services) => services.texts.adminList(actionFilter(options), pageArguments(options)),
    (page) =>
      [
        `${page.totalCount} text(s)`,
        ...page.items.map((t) => [t.id, t.accountId, t.fromNumber, t.toNumber, t.state, t.result ?? "-", new Date(t.created).toISOString()].join("\t")),
      ].join("\n"),
  ),
);

deleteCommand(textCommand, "text", "delete a text (what it was charged stays in the ledger)", (services, id) => services.texts.delete(id));

withSettings(
  textCommand
    .command("outcome")
    .description("report how a sent text went: it is FINISHED and, if delivered, charged its segments, once")
    .requiredOption("--id <id>", "text id")
    .addOption(new Option("--result <result>", "the text's result").choices([...textResults]).makeOptionMandatory())
    .option("--finish-time <time>", "when it was delivered or failed: unix milliseconds or ISO 8601 (default now)")
    .option("--json", "print JSON"),
  storageSettings,
).action(async (options: RawSettings & { json?: boolean; id: string; result: TextResult; finishTime?: string }) =>
  withServices(
    options,
    async (services) =>
      (
        await services.texts.reportOutcome(wholeNumber(options.id, 1, Number.MAX_SAFE_INTEGER, "--id"), {
          result: options.result,
          finishTime: options.finishTime === undefined ? undefined : timeArgument(options.finishTime, "--finish-time"),
        })
      ).text,
    (text) => `text ${text.id}: ${text.result}, ${text.charge?.texts ?? 0} text(s) charged, ${text.charge?.credits ?? 0} credit(s)`,
  ),
);

interface ActionListOptions {
  json?: boolean;
  accountId?: string;
  state?: ActionState;
  intervalBegin?: string;
  intervalEnd?: string;
  limit: string;
  offset: string;
}

function actionFilter(options: ActionListOptions) {
  return {
    accountId: optionalId(options.accountId, "--account-id"),
    state: options.state,
    intervalBegin: options.intervalBegin === undefined ? undefined : timeArgument(options.intervalBegin, "--interval-begin"),
    intervalEnd: options.intervalEnd === undefined ? undefined : timeArgument(options.intervalEnd, "--interval-end"),
  };
}

/** --limit and --offset, read by pageArguments. */
function withPaging(command: Command): Command {
  return command.option("--limit <n>", "page size (1-1000)", "100").option("--offset <n>", "page offset", "0");
}

function pageArguments(options: { limit: string; offset: string }) {
  return { limit: wholeNumber(options.limit, 1, 1000, "--limit"), offset: wholeNumber(options.offset, 0, 2 ** 31 - 1, "--offset") };
}

/** No request to take a host from: links point at the configured public URL, else the default listen address. */
function publicBaseOf(options: RawSettings): string {
  const config = loadConfig(options);
  return config.publicUrl ?? `http://${config.host}:${config.port}`;
}

function idArgument(text: string, flag: string): number {
  return wholeNumber(text, 1, Number.MAX_SAFE_INTEGER, flag);
}

function optionalId(text: string | undefined, flag: string): number | undefined {
  return text === undefined ? undefined : idArgument(text, flag);
}

function missingDatabase(config: Config): ConfigError {
  const where = config.databaseUrl
    ? `the PostgreSQL database of SWITCHBOARD_DATABASE_URL (--database-url) has no Switchboard tables`
    : `there is no Switchboard database in ${config.dataDir} (SWITCHBOARD_DATA_DIR, --data-dir)`;
  return new ConfigError(
    `${where}: point --data-dir at the server's data directory or SWITCHBOARD_DATABASE_URL at its database, or run \`switchboard migrate\` to create one`,
  );
}

function billingLine(summary: BillingSummary): string {
  const { plan } = summary;
  return (
    `plan "${plan.name}" (${plan.monthlyCredits} credits/month, ${plan.creditsPerCallMinute}/call minute, ${plan.creditsPerText}/text): ` +
    `${summary.remainingPlanCredits} plan + ${summary.remainingPayAsYouGoCredits} pay-as-you-go = ${summary.totalRemainingCredits} credits left this month`
  );
}

/** A decimal number; whether it has too many decimals is the billing service's to say. */
function creditsArgument(text: string, flag: string): number {
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new ConfigError(`${flag}: "${text}" is not a number of credits`);
  return Number(text);
}

function timeArgument(text: string, flag: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : /^\d{4}-\d\d-\d\dT/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isSafeInteger(value)) throw new ConfigError(`${flag}: "${text}" is not unix milliseconds or an ISO 8601 time such as 2026-11-28T09:30:00Z`);
  return value;
}

function wholeNumber(text: string, min: number, max: number, flag: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw new ConfigError(`${flag}: "${text}" must be a whole number from ${min} to ${max}`);
  return value;
}

// Exit codes (README, "Exit codes"): 0 done; 2 a usage error, bad input or something not found;
// 3 a conflict (the 409 of the same operation over HTTP); 1 anything else.
program.parseAsync().catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // Commander printed its message (or the help) already.
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
  if (error instanceof ConfigError || (error instanceof ApiError && error.statusCode < 500)) {
    process.stderr.write(`switchboard: ${error.message}\n`);
    process.exit(error instanceof ApiError && error.statusCode === 409 ? 3 : 2);
  }
  process.stderr.write(`switchboard: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
