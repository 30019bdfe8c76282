import { createHmac, randomInt } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import type { Dialect } from "../db/database.js";
import type { Tables } from "../db/tables.js";
import { lockAccountForUpdate } from "../db/write-locks.js";
import { BadRequest, TooManyRequests } from "../errors.js";
import type { Metrics } from "../metrics.js";
import { queueCall, retireCalls } from "./call-outbox.js";
import { digestsEqual } from "./passwords.js";
import { parsePhoneNumber } from "./phone-numbers.js";
import { serverSecret } from "./server-secrets.js";

export interface CallerIdRules {
  codeLength: number;
  codeTtlSeconds: number;
  resendIntervalSeconds: number;
  sendsPerHour: number;
}

/** The contract's number: after this many wrong codes, a code is dead. */
export const maxWrongAttempts = 5;

const hourMs = 60 * 60_000;

/** What the call says: digits one by one, so text-to-speech reads "one, two" rather than "twelve". */
export function verificationMessage(code: string): string {
  const digits = code.split("").join(", ");
  return `Your caller ID verification code is ${digits}. Again, your code is ${digits}.`;
}

/**
 * Caller-ID verification: a code is sent to a number by phone call (queued in the outbox in the
 * same transaction), and the number is verified when the account submits that code. Codes are
 * kept only as an HMAC under a key shared by every node; the throttles count the outbox rows, so
 * they hold across nodes.
 */
export class CallerIdService {
  private secret?: Promise<Buffer>;

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly dialect: Dialect,
    private readonly rules: CallerIdRules,
    private readonly now: () => number = Date.now,
    private readonly metrics?: Metrics,
  ) {}

  /** The account's verified numbers, in the order they were first asked for. */
  async listVerified(accountId: number, db: Kysely<Tables> = this.db): Promise<string[]> {
    const rows = await db
      .selectFrom("caller_id")
      .select("phone_number")
      .where("account_id", "=", accountId)
      .where("verified_at", "is not", null)
      .orderBy("id")
      .execute();
    return rows.map((row) => row.phone_number);
  }

  async sendCode(accountId: number, callerId: string): Promise<void> {
    const number = parsePhoneNumber(callerId);
    const key = await this.codeKey();
    const now = this.now();
    await this.db.transaction().execute(async (tx) => {
      // Sends of one account run one at a time, so two at once cannot both pass the throttles.
      await lockAccountForUpdate(tx, this.dialect, accountId);
      const row = await tx
        .selectFrom("caller_id")
        .select(["id", "verified_at"])
        .where("account_id", "=", accountId)
        .where("phone_number", "=", number)
        .executeTakeFirst();
      if (row && row.verified_at !== null) throw new BadRequest(`caller id ${number} needs no code: that is already verified`);
      await this.refuseOverThrottle(tx, accountId, number, now);

      // A first digit of 1-9: the JS and Python samples send the code as a JSON number, which
      // would lose a leading zero.
      const code = String(randomInt(10 ** (this.rules.codeLength - 1), 10 ** this.rules.codeLength));
      const codeExpiresAt = now + this.rules.codeTtlSeconds * 1000;
      const pending = { code_digest: digest(key, accountId, number, code), code_expires_at: codeExpiresAt, failed_attempts: 0 };
      if (row) {
        await tx.updateTable("caller_id").set(pending).where("id", "=", row.id).execute();
      } else {
        await tx
          .insertInto("caller_id")
          .values({ account_id: accountId, phone_number: number, verified_at: null, created: now, ...pending })
          .execute();
      }
      await retireCalls(tx, accountId, number, "superseded by a newer code", now);
      await queueCall(tx, { accountId, to: number, code, message: verificationMessage(code), codeExpiresAt, now });
    });
  }

  /**
   * True when `code` is the pending code (the number is then verified) or, for a verified number,
   * the code that verified it: a client that retries after a lost answer gets true again. Any
   * other string of digits is false, as the SDKs expect ("true or false depending on whether
   * verification was successful"), and counts as a wrong attempt while a code is pending.
   */
  async verify(accountId: number, callerId: string, code: string | number): Promise<boolean> {
    const number = parsePhoneNumber(callerId);
    // CallFire's JS and Python samples send the code as a JSON number (1234).
    const digits = String(code);
    if (!/^\d+$/.test(digits)) {
      throw new BadRequest(`verificationCode: "${digits}" is not a verification code: expected the digits the call said`);
    }
    const key = await this.codeKey();
    const now = this.now();
    return this.db.transaction().execute(async (tx) => {
      // Concurrent guesses must each count: they wait for one another here.
      await lockAccountForUpdate(tx, this.dialect, accountId);
      const row = await tx
        .selectFrom("caller_id")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("phone_number", "=", number)
        .executeTakeFirst();
      if (!row || row.code_digest === null) return false;
      const matches = digestsEqual(digest(key, accountId, number, digits), row.code_digest);
      if (row.verified_at !== null) return matches;
      const pending = row.code_expires_at !== null && row.code_expires_at > now && row.failed_attempts < maxWrongAttempts;
      if (!pending) return false;

      if (matches) {
        // The digest stays: it recognises a retry of this very verification.
        await tx.updateTable("caller_id").set({ verified_at: now, code_expires_at: null, failed_attempts: 0 }).where("id", "=", row.id).execute();
        await retireCalls(tx, accountId, number, "the number was verified before this call was placed", now);
        return true;
      }
      const failedAttempts = row.failed_attempts + 1;
      await tx.updateTable("caller_id").set({ failed_attempts: failedAttempts }).where("id", "=", row.id).execute();
      if (failedAttempts >= maxWrongAttempts) {
        await retireCalls(tx, accountId, number, `the code was disabled after ${maxWrongAttempts} wrong attempts`, now);
      }
      return false;
    });
  }

  private async refuseOverThrottle(tx: Transaction<Tables>, accountId: number, number: string, now: number): Promise<void> {
    const { resendIntervalSeconds, sendsPerHour } = this.rules;
    const last = await tx
      .selectFrom("call_outbox")
      .select("created")
      .where("account_id", "=", accountId)
      .where("to_number", "=", number)
      .where("type", "=", "callerIdVerification")
      .where("created", ">", now - resendIntervalSeconds * 1000)
      .orderBy("created", "desc")
      .limit(1)
      .executeTakeFirst();
    if (last) {
      const wait = (last.created + resendIntervalSeconds * 1000 - now) / 1000;
      this.metrics?.throttle("caller_id_resend");
      throw new TooManyRequests(
        `a verification call to ${number} was queued less than ${resendIntervalSeconds} s ago; try again in ${Math.ceil(wait)} s`,
        wait,
      );
    }
    // The send that filled the hour's allowance: once it is an hour old, there is room again.
    const filling = await tx
      .selectFrom("call_outbox")
      .select("created")
      .where("account_id", "=", accountId)
      .where("type", "=", "callerIdVerification")
      .where("created", ">", now - hourMs)
      .orderBy("created", "desc")
      .limit(1)
      .offset(sendsPerHour - 1)
      .executeTakeFirst();
    if (filling) {
      const wait = (filling.created + hourMs - now) / 1000;
      this.metrics?.throttle("caller_id_hourly");
      throw new TooManyRequests(
        `this account has queued ${sendsPerHour} verification calls in the last hour; try again in ${Math.ceil(wait)} s`,
        wait,
      );
    }
  }

  /** Read once per process; on SQLite it must be read outside a transaction (one connection). */
  private codeKey(): Promise<Buffer> {
    this.secret ??= serverSecret(this.db, "caller-id-codes", this.now()).catch((error: unknown) => {
      this.secret = undefined;
      throw error;
    });
    return this.secret;
  }
}

/** Bound to the account and number, so a code is worth nothing anywhere else. */
function digest(key: Buffer, accountId: number, number: string, code: string): string {
  return createHmac("sha256", key).update(`${accountId}:${number}:${code}`).digest("hex");
}
