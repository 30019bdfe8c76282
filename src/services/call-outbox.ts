import { randomUUID } from "node:crypto";
import { sql, type Kysely, type Transaction } from "kysely";
import type { Dialect } from "../db/database.js";
import type { CallOutboxRow, CallStatus, DeliveryType, Tables } from "../db/tables.js";
import { takeSqliteWriteLock } from "../db/write-locks.js";
import { findPage, type Page, type PageRequest } from "./paging.js";
import { phoneNumberOrUndefined } from "./phone-numbers.js";

// The delivery outbox: every verification call, sent call and sent text is a row written in the
// same transaction as what it delivers, then claimed and delivered by
// src/delivery/call-delivery-worker.ts at least once. The sandbox simulator's pending outcomes are
// rows too, so a call it accepted still finishes after a restart.

/** A claimed delivery, as handed to a transport or to the simulator. */
export interface Delivery {
  /** The stable delivery id: the same on every attempt, so a receiver can drop duplicates. */
  id: string;
  type: DeliveryType;
  accountId: number;
  to: string;
  /** 1 on the first attempt. */
  attempt: number;
  created: number;
  /** The call or text (not for verification calls). */
  actionId?: number;
  /** Verification calls: the code, the sentence that speaks it, and when it expires. */
  code?: string;
  message?: string;
  codeExpiresAt?: number;
  /** Calls and texts: the webhook body's details; simulated outcomes: the outcome. */
  payload?: Record<string, unknown>;
}

/** A row as the operator sees it. */
export interface OutboxEntry {
  id: string;
  type: DeliveryType;
  accountId: number;
  to: string;
  callId?: number;
  textId?: number;
  code?: string;
  message?: string;
  codeExpiresAt?: number;
  status: CallStatus;
  attempts: number;
  lastError?: string;
  /** PENDING deliveries only. */
  nextAttemptAt?: number;
  created: number;
  updated: number;
}

export interface OutboxFilter {
  accountId?: number;
  /** As the operator typed it: any form the API takes; something that is no number matches nothing. */
  to?: string;
  status?: CallStatus;
  type?: DeliveryType;
}

/** A delivery of a call or text, or a simulated outcome, to queue. */
export interface NewDelivery {
  type: Exclude<DeliveryType, "callerIdVerification">;
  accountId: number;
  actionId: number;
  to: string;
  payload: Record<string, unknown>;
  /** When it is first due (default: at once). */
  dueAt?: number;
}

/** A delivery the transport accepted, and what the acceptance leaves to do (the simulator's outcome). */
export interface Accepted {
  delivery: Delivery;
  followUp?: NewDelivery;
}

const verification = "callerIdVerification" satisfies DeliveryType;

export const deliveryTypes: DeliveryType[] = [verification, "call", "text", "simulatedCallOutcome", "simulatedTextOutcome"];

/** Writes a verification call to place; `db` is the caller's transaction. */
export async function queueCall(
  db: Kysely<Tables>,
  call: { accountId: number; to: string; code: string; message: string; codeExpiresAt: number; now: number },
): Promise<void> {
  await db
    .insertInto("call_outbox")
    .values({
      call_id: randomUUID(),
      type: verification,
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
      action_id: null,
      payload: null,
    })
    .execute();
}

/**
 * Queues deliveries of calls or texts (or simulated outcomes); `db` is the caller's transaction.
 * One per (type, action): queuing one again does nothing.
 */
export async function queueDeliveries(db: Kysely<Tables>, deliveries: NewDelivery[], now: number): Promise<void> {
  if (deliveries.length === 0) return;
  await db
    .insertInto("call_outbox")
    .values(
      deliveries.map((d) => ({
        call_id: randomUUID(),
        type: d.type,
        account_id: d.accountId,
        action_id: d.actionId,
        to_number: d.to,
        payload: JSON.stringify(d.payload),
        code: null,
        message: null,
        code_expires_at: null,
        status: "PENDING" as const,
        attempts: 0,
        last_error: null,
        next_attempt_at: d.dueAt ?? now,
        created: now,
        updated: now,
      })),
    )
    .onConflict((c) => c.columns(["type", "action_id"]).doNothing())
    .execute();
}

/**
 * A call or text whose outcome is known needs no more delivery: one still waiting (the platform
 * answered before its 2xx was recorded) is done.
 */
export async function settleDelivery(db: Kysely<Tables>, type: "call" | "text", actionId: number, now: number): Promise<void> {
  await db
    .updateTable("call_outbox")
    .set({ status: "SENT", last_error: null, updated: now })
    .where("type", "=", type)
    .where("action_id", "=", actionId)
    .where("status", "=", "PENDING")
    .execute();
}

/**
 * Once a number's code can no longer be used (replaced, used, or disabled), its verification calls
 * still waiting are not placed, and the code is erased from every call that carried it.
 */
export async function retireCalls(db: Kysely<Tables>, accountId: number, to: string, reason: string, now: number): Promise<void> {
  await db
    .updateTable("call_outbox")
    .set({ status: "FAILED", last_error: reason, updated: now })
    .where("account_id", "=", accountId)
    .where("to_number", "=", to)
    .where("type", "=", verification)
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

  /** Newest first: an operator looks for the delivery just made. */
  async list(filter: OutboxFilter, page: PageRequest): Promise<Page<OutboxEntry>> {
    let query = this.db.selectFrom("call_outbox");
    if (filter.accountId !== undefined) query = query.where("account_id", "=", filter.accountId);
    if (filter.to !== undefined) {
      const to = phoneNumberOrUndefined(filter.to);
      if (to === undefined) return { items: [], ...page, totalCount: 0 };
      query = query.where("to_number", "=", to);
    }
    if (filter.status !== undefined) query = query.where("status", "=", filter.status);
    if (filter.type !== undefined) query = query.where("type", "=", filter.type);
    return findPage(this.db, query, page, (q) => q.selectAll().orderBy("id", "desc"), toEntry);
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
   * Takes up to `limit` due deliveries for `leaseMs`: their next attempt moves past the lease, so
   * no other worker takes them meanwhile, and one whose worker died is taken again after it.
   */
  async claimDue(limit: number, leaseMs: number): Promise<Delivery[]> {
    const now = this.now();
    return this.db.transaction().execute(async (tx) => {
      await takeSqliteWriteLock(tx, this.dialect);
      let due = tx
        .selectFrom("call_outbox")
        .select("id")
        .where("status", "=", "PENDING")
        .where("next_attempt_at", "<=", now)
        .where((eb) => eb.or([eb("type", "!=", verification), eb("code_expires_at", ">", now)]))
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
      return claimed.sort((a, b) => a.id - b.id).map(toDelivery);
    });
  }

  // The outcome of an attempt is recorded only if the row is still that attempt's: a worker
  // that outlived its lease must not overwrite the outcome of the attempt that followed.

  /**
   * Records the deliveries the transport accepted, in one transaction (one commit for a whole
   * batch): each is SENT, its call or text becomes SELECTED (unless its outcome came first), and
   * what the acceptance left to do is queued with it, so neither happens without the other.
   */
  async markSent(accepted: Accepted[]): Promise<void> {
    if (accepted.length === 0) return;
    const now = this.now();
    await this.db.transaction().execute(async (tx) => {
      await takeSqliteWriteLock(tx, this.dialect);
      // A few statements per batch, not a few per delivery: grouped by attempt (almost always one group).
      const sent = new Set<string>();
      for (const attempt of new Set(accepted.map(({ delivery }) => delivery.attempt))) {
        const group = accepted.filter(({ delivery }) => delivery.attempt === attempt);
        const rows = await tx
          .updateTable("call_outbox")
          .set({ status: "SENT", last_error: null, updated: now })
          .where("call_id", "in", group.map(({ delivery }) => delivery.id))
          .where("attempts", "=", attempt)
          .where("status", "=", "PENDING")
          .returning("call_id")
          .execute();
        for (const row of rows) sent.add(row.call_id);
      }
      const taken = accepted.filter(({ delivery }) => sent.has(delivery.id));
      for (const type of ["call", "text"] as const) {
        const ids = taken.filter(({ delivery }) => delivery.type === type).map(({ delivery }) => delivery.actionId!);
        if (ids.length === 0) continue;
        await tx.updateTable(type).set({ state: "SELECTED", modified: now }).where("id", "in", ids).where("state", "=", "READY").execute();
      }
      await queueDeliveries(
        tx,
        taken.flatMap(({ followUp }) => (followUp ? [followUp] : [])),
        now,
      );
    });
  }

  async markRetry(delivery: Delivery, error: string, delayMs: number): Promise<void> {
    const now = this.now();
    await this.reportAttempt(this.db, delivery, { last_error: error, next_attempt_at: now + delayMs }, now);
  }

  /** True if this attempt was still the delivery's own (see above). */
  async markFailed(delivery: Delivery, error: string): Promise<boolean> {
    return this.reportAttempt(this.db, delivery, { status: "FAILED", last_error: error }, this.now());
  }

  /** Fails the verification calls whose code expired before they could be placed, and erases expired codes. */
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
    db: Kysely<Tables> | Transaction<Tables>,
    delivery: Delivery,
    change: { status?: CallStatus; last_error: string | null; next_attempt_at?: number },
    now: number,
  ): Promise<boolean> {
    const updated = await db
      .updateTable("call_outbox")
      .set({ ...change, updated: now })
      .where("call_id", "=", delivery.id)
      .where("attempts", "=", delivery.attempt)
      .where("status", "=", "PENDING")
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) === 1;
  }
}

function toDelivery(row: CallOutboxRow): Delivery {
  return {
    id: row.call_id,
    type: row.type,
    accountId: row.account_id,
    to: row.to_number,
    attempt: row.attempts,
    created: row.created,
    actionId: row.action_id ?? undefined,
    code: row.code ?? undefined,
    message: row.message ?? undefined,
    codeExpiresAt: row.code_expires_at ?? undefined,
    payload: row.payload === null ? undefined : (JSON.parse(row.payload) as Record<string, unknown>),
  };
}

function toEntry(row: CallOutboxRow): OutboxEntry {
  return {
    id: row.call_id,
    type: row.type,
    accountId: row.account_id,
    to: row.to_number,
    callId: row.type === "call" || row.type === "simulatedCallOutcome" ? (row.action_id ?? undefined) : undefined,
    textId: row.type === "text" || row.type === "simulatedTextOutcome" ? (row.action_id ?? undefined) : undefined,
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
