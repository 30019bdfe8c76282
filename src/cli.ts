#!/usr/bin/env node
import { Command, Option } from "commander";
import { AudioConverter } from "./audio/audio-converter.js";
import { createBlobStore } from "./blobs/index.js";
import { ConfigError, loadConfig, settings, type RawSettings, type SettingName } from "./config.js";
import { openDatabase, type Database } from "./db/database.js";
import { ApiError } from "./errors.js";
import { serve } from "./serve.js";
import { createServices, type Services } from "./server.js";

const program = new Command("switchboard").description("A self-hostable, CallFire API v2-compatible server");

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

/** Runs `work` against the configured database, printing JSON or a human line. */
async function withServices<T>(
  options: RawSettings & { json?: boolean },
  work: (services: Services) => Promise<T>,
  human: (result: T) => string,
): Promise<void> {
  const config = loadConfig(options);
  const database: Database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  const converter = new AudioConverter();
  try {
    await database.migrate();
    const result = await work(createServices({ config, database, blobs: createBlobStore(config), converter }));
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
  async (options: RawSettings) => withServices(options, async () => ({ migrated: true }), () => "database is up to date"),
);

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
  account
    .command("list")
    .description("list accounts")
    .option("--limit <n>", "page size (1-1000)", "100")
    .option("--offset <n>", "page offset", "0")
    .option("--json", "print JSON"),
  storageSettings,
).action(async (options: RawSettings & { json?: boolean; limit: string; offset: string }) =>
  withServices(
    options,
    (services) => services.accounts.list({ limit: pageNumber(options.limit, 1, 1000, "--limit"), offset: pageNumber(options.offset, 0, 2 ** 31 - 1, "--offset") }),
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
      const id = pageNumber(options.id, 1, Number.MAX_SAFE_INTEGER, "--id");
      await services.accounts.setPassword(id, options.password);
      return { id, passwordChanged: true };
    },
    (result) => `password changed for account ${result.id}`,
  ),
);

function pageNumber(text: string, min: number, max: number, flag: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw new ConfigError(`${flag}: "${text}" must be a whole number from ${min} to ${max}`);
  return value;
}

program.parseAsync().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof ApiError) {
    process.stderr.write(`switchboard: ${error.message}\n`);
    process.exit(error instanceof ApiError && error.statusCode === 409 ? 3 : 2);
  }
  process.stderr.write(`switchboard: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
