import type { Kysely } from "kysely";
import { BadRequest, Conflict, NotFound } from "../errors.js";
import type { AccountRow, Tables } from "../db/tables.js";
import { findPage, type Page, type PageRequest } from "./paging.js";
import { hashPassword, verifyPassword } from "./passwords.js";

export interface Account {
  id: number;
  email: string;
  name?: string;
  firstName?: string;
  lastName?: string;
  created: number;
}

export interface NewAccount {
  email: string;
  password: string;
  name?: string;
  firstName?: string;
  lastName?: string;
}

const emailPattern = /^[^\s@]+@[^\s@]+$/;

/** How a login email is stored and matched: the same address in any case is the same login. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function checkPassword(password: string): void {
  if (password.length < 8 || password.length > 1024) {
    throw new BadRequest("password: must be 8 to 1024 characters");
  }
}

export class AccountService {
  private readonly passwordListeners: Array<(accountId: number) => void | Promise<void>> = [];

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Called after a login password changes, so caches of earlier verifications drop it. */
  onPasswordChanged(listener: (accountId: number) => void | Promise<void>): void {
    this.passwordListeners.push(listener);
  }

  async create(input: NewAccount): Promise<Account> {
    const email = normaliseEmail(input.email);
    if (!emailPattern.test(email) || email.length > 320) throw new BadRequest(`email: "${input.email}" is not an email address`);
    checkPassword(input.password);
    const row = {
      email,
      password_hash: await hashPassword(input.password),
      name: input.name ?? null,
      first_name: input.firstName ?? null,
      last_name: input.lastName ?? null,
      created: this.now(),
    };
    // Checked and inserted in one statement so two concurrent creates cannot both succeed.
    const inserted = await this.db
      .insertInto("account")
      .values(row)
      .onConflict((c) => c.column("email").doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!inserted) throw new Conflict(`an account with email ${email} already exists`);
    return toAccount(inserted);
  }

  async get(id: number): Promise<Account> {
    const row = await this.db.selectFrom("account").selectAll().where("id", "=", id).executeTakeFirst();
    if (!row) throw new NotFound(`account ${id} not found`);
    return toAccount(row);
  }

  async list(page: PageRequest): Promise<Page<Account>> {
    return findPage(this.db, this.db.selectFrom("account"), page, (q) => q.selectAll().orderBy("id"), toAccount);
  }

  async count(): Promise<number> {
    const { n } = await this.db.selectFrom("account").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    return Number(n);
  }

  async setPassword(id: number, password: string): Promise<void> {
    checkPassword(password);
    const hash = await hashPassword(password);
    // A new password also signs out every web console of the account: whoever knew the old one
    // may be the reason for the change.
    await this.db.transaction().execute(async (tx) => {
      const result = await tx.updateTable("account").set({ password_hash: hash }).where("id", "=", id).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw new NotFound(`account ${id} not found`);
      await tx.deleteFrom("console_session").where("account_id", "=", id).execute();
    });
    await Promise.all(this.passwordListeners.map((listener) => listener(id)));
  }

  /** The account whose login this is, or undefined: unknown email and wrong password look alike. */
  async verifyLogin(email: string, password: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom("account").selectAll().where("email", "=", normaliseEmail(email)).executeTakeFirst();
    if (!row) {
      // Spend the same scrypt time as for a real account so timing does not reveal which emails exist.
      await verifyPassword(password, dummyHash);
      return undefined;
    }
    return (await verifyPassword(password, row.password_hash)) ? toAccount(row) : undefined;
  }
}

const dummyHash = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

export function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    email: row.email,
    name: row.name ?? undefined,
    firstName: row.first_name ?? undefined,
    lastName: row.last_name ?? undefined,
    created: row.created,
  };
}
