import { afterEach, describe, expect, it } from "vitest";
import { TooManyRequests } from "../src/errors.js";
import { hashPassword, scryptSlots, verifyPassword } from "../src/services/passwords.js";

describe("password hashing", () => {
  const defaults = { limit: scryptSlots.limit, maxWaiting: scryptSlots.maxWaiting };
  afterEach(() => Object.assign(scryptSlots, defaults));

  it("verifies the right password and refuses a wrong one", async () => {
    const stored = await hashPassword("correct horse");
    expect(stored).toMatch(/^scrypt\$16384\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword("correct horse", stored)).toBe(true);
    expect(await verifyPassword("correct horsf", stored)).toBe(false);
    expect(await verifyPassword("anything", "not-a-hash")).toBe(false);
  });

  it("runs a bounded number of scrypts at once and turns away what the queue cannot hold", async () => {
    const stored = await hashPassword("secret");
    Object.assign(scryptSlots, { limit: 1, maxWaiting: 2 });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => verifyPassword("secret", stored)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "rejected", "rejected"]);
    for (const r of results.slice(3)) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(TooManyRequests);
    expect(scryptSlots.running).toBe(0);
    expect(scryptSlots.waiting).toHaveLength(0);
  });
});
