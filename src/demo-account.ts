import { randomBytes } from "node:crypto";
import type { Services } from "./server.js";

export interface DemoAccount {
  email: string;
  password: string;
  username: string;
  credentialPassword: string;
}

export const demoEmail = "demo@switchboard.local";

/** On a database with no accounts, creates one with an API credential, so a first run is usable. */
export async function ensureDemoAccount(services: Services): Promise<DemoAccount | undefined> {
  if ((await services.accounts.count()) > 0) return undefined;
  const password = randomBytes(9).toString("base64url");
  const account = await services.accounts.create({
    email: demoEmail,
    password,
    name: "Demo Account",
    firstName: "Demo",
    lastName: "User",
  });
  const credential = await services.credentials.create(account.id, "demo");
  return { email: demoEmail, password, username: credential.username, credentialPassword: credential.password };
}
