import { expect } from "vitest";
import { call, type TestAccount, type TestApp } from "./app.js";
import { admin } from "./calls.js";

/** Verifies `number` for the account as a user would: the code comes from the call the outbox holds. */
export async function verifyCallerId(app: TestApp, account: TestAccount, number: string): Promise<void> {
  expect((await call(app, "POST", `/v2/me/callerids/${number}`, { auth: account.api })).status).toBe(200);
  const { items } = await app.services.outbox.list({ accountId: account.id, to: number, type: "callerIdVerification" }, { limit: 1, offset: 0 });
  const verified = await call(app, "POST", `/v2/me/callerids/${number}/verification-code`, { auth: account.api, body: { verificationCode: items[0]!.code } });
  expect(verified.json).toBe(true);
}

export async function addCredits(app: TestApp, account: TestAccount, amount: number): Promise<void> {
  expect((await admin(app, "POST", `/accounts/${account.id}/credits`, { amount })).status).toBe(200);
}

export function sendCalls(app: TestApp, account: TestAccount, body: unknown, query = "", headers: Record<string, string> = {}) {
  return call(app, "POST", `/v2/calls${query}`, { auth: account.api, body, headers });
}

export function sendTexts(app: TestApp, account: TestAccount, body: unknown, query = "", headers: Record<string, string> = {}) {
  return call(app, "POST", `/v2/texts${query}`, { auth: account.api, body, headers });
}

/** Delivers everything due now, as many passes as it takes. */
export async function deliverAll(app: TestApp): Promise<void> {
  while ((await app.services.callDelivery.deliverDue()) > 0);
}
