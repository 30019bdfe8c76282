import { randomBytes } from "node:crypto";
import { Conflict } from "./errors.js";
import type { Services } from "./server.js";
import type { Account } from "./services/accounts.js";

export interface DemoAccount {
  email: string;
  password: string;
  username: string;
  credentialPassword: string;
}

export const demoEmail = "demo@switchboard.local";
export const demoCredits = 100;

/**
 * On a database with no accounts, creates one with an API credential, so a first run is usable.
 * Nodes started together on an empty database all try: the email's uniqueness lets one create it,
 * and only that one gets (and prints) its credentials.
 */
export async function ensureDemoAccount(services: Services): Promise<DemoAccount | undefined> {
  if ((await services.accounts.count()) > 0) return undefined;
  const password = randomBytes(9).toString("base64url");
  let account: Account;
  try {
    account = await services.accounts.create({
      email: demoEmail,
      password,
      name: "Demo Account",
      firstName: "Demo",
      lastName: "User",
    });
  } catch (error) {
    if (error instanceof Conflict) return undefined;
    throw error;
  }
  const credential = await services.credentials.create(account.id, "demo");
  // Sending needs credits up front: the demo can place its first calls and texts in the simulator.
  await services.billing.addCredits(account.id, demoCredits);
  return { email: demoEmail, password, username: credential.username, credentialPassword: credential.password };
}
