import type { Kysely } from "kysely";
import type { BlobStore } from "../blobs/blob-store.js";
import { BadRequest, Conflict, NotFound } from "../errors.js";
import type { Dialect } from "../db/database.js";
import type { AccountRow, Tables } from "../db/tables.js";
import { lockForDeletion } from "../db/write-locks.js";
import { deleteReleasedBlobs } from "./blob-sweeper.js";
import { findPage, type Page, type PageRequest } from "./paging.js";
import { hashPassword, verifyPassword } from "./passwords.js";

export interface Account {
  id: number;
  email: string;
  name?: string;
  firstName?: string;
  lastName?: string;
  created: number;
  /** While the operator has it disabled: since when. */
  disabledAt?: number;
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
  private readonly disabledListeners: Array<(accountId: number) => void | Promise<void>> = [];

  constructor(
    private readonly db: Kysely<Tables>,
    private readonly dialect: Dialect,
    private readonly blobs: BlobStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Called after a login password changes, so caches of earlier verifications drop it. */
  onPasswordChanged(listener: (accountId: number) => void | Promise<void>): void {
    this.passwordListeners.push(listener);
  }

  /**
   * Called after an account is disabled or deleted, so caches of earlier verifications of its
   * login and of every one of its credentials drop them.
   */
  onDisabled(listener: (accountId: number) => void | Promise<void>): void {
    this.disabledListeners.push(listener);
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

  /**
   * Disables the account: from now on its login, its API credentials and its console sessions are
   * refused (the sessions are ended too), until it is enabled again. Disabling a disabled account
   * changes nothing, nor does enabling an enabled one.
   */
  async setDisabled(id: number, disabled: boolean): Promise<Account> {
    const row = await this.db.transaction().execute(async (tx) => {
      const updated = await tx
        .updateTable("account")
        .set((eb) => ({ disabled_at: disabled ? eb.fn.coalesce("disabled_at", eb.val(this.now())) : null }))
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirst();
      if (!updated) throw new NotFound(`account ${id} not found`);
      if (disabled) await tx.deleteFrom("console_session").where("account_id", "=", id).execute();
      return updated;
    });
    if (disabled) await Promise.all(this.disabledListeners.map((listener) => listener(id)));
    return toAccount(row);
  }

  /**
   * Deletes the account and everything of it: its credentials, caller IDs, media (with their
   * renditions), calls, texts, recordings, outbox rows, console sessions, idempotency keys (all by
   * the schema's cascades), its logins' throttle rows, and then the blobs of its media and
   * recordings. Its billing ledger (usage_charge, credit_adjustment) is kept under the bare account
   * id for the operator's books; the account's email and names are gone with it.
   */
  async delete(id: number): Promise<void> {
    const blobKeys = await this.db.transaction().execute(async (tx) => {
      // Nothing new of the account (a media file's rendition included) until it is gone.
      await lockForDeletion(tx, this.dialect, "account", "id", id);
      await lockForDeletion(tx, this.dialect, "media", "account_id", id);
      const account = await tx.selectFrom("account").select("email").where("id", "=", id).executeTakeFirst();
      if (!account) throw new NotFound(`account ${id} not found`);
      const media = tx.selectFrom("media").select("id").where("account_id", "=", id);
      const keys = await tx
        .selectFrom("media")
        .select("blob_key as key")
        .where("account_id", "=", id)
        .union(tx.selectFrom("media_rendition").select("blob_key as key").where("media_id", "in", media))
        .union(tx.selectFrom("call_recording").select("blob_key as key").where("account_id", "=", id).where("blob_key", "is not", null).$narrowType<{ key: string }>())
        .execute();
      const credentials = await tx.selectFrom("api_credential").select("username").where("account_id", "=", id).execute();
      const usernames = [account.email, ...credentials.map((c) => c.username)];
      for (let i = 0; i < usernames.length; i += 500) {
        await tx.deleteFrom("login_throttle").where("username", "in", usernames.slice(i, i + 500)).execute();
      }
      await tx.deleteFrom("account").where("id", "=", id).execute();
      return keys.map((row) => row.key);
    });
    await Promise.all(this.disabledListeners.map((listener) => listener(id)));
    await deleteReleasedBlobs(this.db, this.blobs, blobKeys);
  }

  /** The account whose login this is, or undefined: unknown email and wrong password look alike. */
  async verifyLogin(email: string, password: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom("account").selectAll().where("email", "=", normaliseEmail(email)).executeTakeFirst();
    if (!row) {
      // Spend the same scrypt time as for a real account so timing does not reveal which emails exist.
      await verifyPassword(password, dummyHash);
      return undefined;
    }
    // The password is checked first, so a disabled account takes as long as any other.
    return (await verifyPassword(password, row.password_hash)) && row.disabled_at === null ? toAccount(row) : undefined;
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
    disabledAt: row.disabled_at ?? undefined,
  };
}
