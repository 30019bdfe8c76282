import type { Migration, MigrationProvider } from "kysely";
import type { Dialect } from "./columns.js";
import { accountsAndCredentials } from "./0001-accounts-and-credentials.js";
import { media } from "./0002-media.js";
import { callerIds } from "./0003-caller-ids.js";
import { callsAndBilling } from "./0004-calls-and-billing.js";
import { loginFailureTimeIndex } from "./0005-login-failure-time-index.js";
import { consoleSessions } from "./0006-console-sessions.js";
import { loginThrottle } from "./0007-login-throttle.js";
import { blobKeyIndexes } from "./0008-blob-key-indexes.js";
import { callsAndTexts } from "./0009-calls-and-texts.js";
import { operatorAccounts } from "./0010-operator-accounts.js";
import { usageDays } from "./0011-usage-days.js";
import { fleet } from "./0012-fleet.js";

// Migrations are listed here, in order, rather than discovered on disk: the same list runs from
// the TypeScript sources in tests and from dist/ in production.
export function migrationProvider(dialect: Dialect): MigrationProvider {
  const migrations: Record<string, Migration> = {
    "0001-accounts-and-credentials": accountsAndCredentials(dialect),
    "0002-media": media(dialect),
    "0003-caller-ids": callerIds(dialect),
    "0004-calls-and-billing": callsAndBilling(dialect),
    "0005-login-failure-time-index": loginFailureTimeIndex,
    "0006-console-sessions": consoleSessions(dialect),
    "0007-login-throttle": loginThrottle,
    "0008-blob-key-indexes": blobKeyIndexes,
    "0009-calls-and-texts": callsAndTexts(dialect),
    "0010-operator-accounts": operatorAccounts(dialect),
    "0011-usage-days": usageDays(dialect),
    "0012-fleet": fleet,
  };
  return { getMigrations: async () => migrations };
}

export type { Dialect };
