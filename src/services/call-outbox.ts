import { randomUUID } from "node:crypto";
import { sql, type Kysely } from "kysely";
import type { Dialect } from "../db/database.js";
import type { CallOutboxRow, CallStatus, Tables } from "../db/tables.js";
import { takeSqliteWriteLock } from "../db/write-locks.js";
import { findPage, type Page, type PageRequest } from "./paging.js";
import { phoneNumberOrUndefined } from "./phone-numbers.js";

// The delivery outbox: each verification call is a row written in the same transaction as its
// code, then claimed and delivered by src/delivery/call-delivery-worker.ts at least once.

/** A claimed call, as handed to a transport. */
export interface QueuedCall {
  /** The stable call id: the same on every attempt, so a receiver can drop duplicates. */
  id: string;
  accountId: number;
  to: string;
  code: string;
  message: string;
  /** 1 on the first attempt. */
  attempt: number;
  created: number;
  codeExpiresAt: number;
}

/** A row as the operator sees it. */
export interface OutboxEntry {
  id: string;
  accountId: number;
  to: string;
  code?: string;
  message?: string;
  codeExpiresAt?: number;
  status: CallStatus;
  attempts: number;
  lastError?: string;
  /** PENDING calls only. */
  nextAttemptAt?: number;
  created: number;
  updated: number;
}

export interface OutboxFilter {
  accountId?: number;
  /** As the operator typed it: any form the API takes; something that is no number matches nothing. */
  to?: string;
  status?: CallStatus;
}

/** Writes a call to place; `db` is the caller's transaction. */
export async function queueCall(
  db: Kysely<Tables>,
  call: { accountId: number; to: string; code: string; message: string; codeExpiresAt: number; now: number },
): Promise<void> {
  await db
    .insertInto("call_outbox")
    .values({
      call_id: randomUUID(),
      account_id: call.accountId,
      to_number: call.to,
      code: call.code,
      message: call.message,
      code_expires_at: call.codeExpiresAt,
      status: "PENDING",
      attempts: 0,
      last_error: null,
      next_attempt_at: call.now,
      created: call.now,
      updated: call.now,
    })
    .execute();
}

/**
 * Once a number's code can no longer be used (replaced, used, or disabled), its calls still
 * waiting are not placed, and the code is erased from every call that carried it.
 */
export async function retireCalls(db: Kysely<Tables>, accountId: number, to: string, reason: string, now: number): Promise<void> {
  await db
    .updateTable("call_outbox")
    .set({ status: "FAILED", last_error: reason, updated: now })
    .where("account_id", "=", accountId)
    .where("to_number", "=", to)
    .where("status", "=", "PENDING")
    .execute();
  await db
    .updateTable("call_outbox")
    .set({ code: null, message: null, code_expires_at: null })
    .where("account_id", "=", accountId)
    .where("to_number", "=", to)
    .where("code", "is not", null)
    .execute();
}

export class CallOutbox {
  constructor(
    private readonly db: Kysely<Tables>,
    private readonly dialect: Dialect,
    private readonly now: () => number = Date.now,
  ) {}

  /** Newest first: an operator looks for the call just placed. */
  async list(filter: OutboxFilter, page: PageRequest): Promise<Page<OutboxEntry>> {
    let query = this.db.selectFrom("call_outbox");
    if (filter.accountId !== undefined) query = query.where("account_id", "=", filter.accountId);
    if (filter.to !== undefined) {
      const to = phoneNumberOrUndefined(filter.to);
      if (to === undefined) return { items: [], ...page, totalCount: 0 };
      query = query.where("to_number", "=", to);
    }
    if (filter.status !== undefined) query = query.where("status", "=", filter.status);
    return findPage(query, page, (q) => q.selectAll().orderBy("id", "desc"), toEntry);
  }

  /**
   * The code the newest verification call to `to` carries while it can still be used: what the
   * web console shows in the sandbox, where no telephone speaks it.
   */
  async usableCode(accountId: number, to: string): Promise<{ code: string; codeExpiresAt: number } | undefined> {
    const row = await this.db
      .selectFrom("call_outbox")
      .select(["code", "code_expires_at"])
      .where("account_id", "=", accountId)
      .where("to_number", "=", to)
      .where("code", "is not", null)
      .where("code_expires_at", ">", this.now())
      .orderBy("created", "desc")
      .orderBy("id", "desc")
      .limit(1)
      .executeTakeFirst();
    return row && { code: row.code!, codeExpiresAt: row.code_expires_at! };
  }

  /**
   * Takes up to `limit` due calls for `leaseMs`: their next attempt moves past the lease, so no
   * other worker takes them meanwhile, and one whose worker died is taken again after it.
   */
  async claimDue(limit: number, leaseMs: number): Promise<QueuedCall[]> {
    const now = this.now();
    return this.db.transaction().execute(async (tx) => {
      await takeSqliteWriteLock(tx, this.dialect);
      let due = tx
        .selectFrom("call_outbox")
        .select("id")
        .where("status", "=", "PENDING")
        .where("next_attempt_at", "<=", now)
        .where("code_expires_at", ">", now)
        .orderBy("next_attempt_at")
        .orderBy("id")
        .limit(limit);
      // Several servers may run workers on one PostgreSQL: each skips the rows another is
      // claiming. On SQLite the write lock taken above keeps other writers out.
      if (this.dialect === "postgres") due = due.forUpdate().skipLocked();
      const ids = (await due.execute()).map((row) => row.id);
      if (ids.length === 0) return [];
      const claimed = await tx
        .updateTable("call_outbox")
        .set((eb) => ({ attempts: eb("attempts", "+", 1), next_attempt_at: now + leaseMs, updated: now }))
        .where("id", "in", ids)
        .returningAll()
        .execute();
      return claimed.sort((a, b) => a.id - b.id).map(toQueuedCall);
    });
  }

  // The outcome of an attempt is recorded only if the row is still that attempt's: a worker
  // that outlived its lease must not overwrite the outcome of the attempt that followed.

  async markSent(call: QueuedCall): Promise<void> {
    await this.reportAttempt(call, { status: "SENT", last_error: null });
  }

  async markRetry(call: QueuedCall, error: string, delayMs: number): Promise<void> {
    await this.reportAttempt(call, { last_error: error, next_attempt_at: this.now() + delayMs });
  }

  async markFailed(call: QueuedCall, error: string): Promise<void> {
    await this.reportAttempt(call, { status: "FAILED", last_error: error });
  }

  /** Fails the calls whose code expired before they could be placed, and erases expired codes. */
  async eraseExpiredCodes(): Promise<number> {
    const now = this.now();
    await this.db
      .updateTable("call_outbox")
      .set({
        status: "FAILED",
        last_error: sql<string>`'the code expired before the call was delivered' || coalesce('; last error: ' || last_error, '')`,
        updated: now,
      })
      .where("status", "=", "PENDING")
      .where("code_expires_at", "<=", now)
      .execute();
    const erased = await this.db
      .updateTable("call_outbox")
      .set({ code: null, message: null, code_expires_at: null })
      .where("code_expires_at", "<=", now)
      .executeTakeFirst();
    return Number(erased.numUpdatedRows);
  }

  private async reportAttempt(
    call: QueuedCall,
    change: { status?: CallStatus; last_error: string | null; next_attempt_at?: number },
  ): Promise<void> {
    await this.db
      .updateTable("call_outbox")
      .set({ ...change, updated: this.now() })
      .where("call_id", "=", call.id)
      .where("attempts", "=", call.attempt)
      .where("status", "=", "PENDING")
      .execute();
  }
}

function toQueuedCall(row: CallOutboxRow): QueuedCall {
  return {
    id: row.call_id,
    accountId: row.account_id,
    to: row.to_number,
    code: row.code!,
    message: row.message!,
    attempt: row.attempts,
    created: row.created,
    codeExpiresAt: row.code_expires_at!,
  };
}

function toEntry(row: CallOutboxRow): OutboxEntry {
  return {
    id: row.call_id,
    accountId: row.account_id,
    to: row.to_number,
    code: row.code ?? undefined,
    message: row.message ?? undefined,
    codeExpiresAt: row.code_expires_at ?? undefined,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error ?? undefined,
    nextAttemptAt: row.status === "PENDING" ? row.next_attempt_at : undefined,
    created: row.created,
    updated: row.updated,
  };
}
