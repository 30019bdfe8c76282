import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { TooManyRequests } from "../errors.js";

// Account passwords are chosen by people, so they get scrypt. API-credential passwords are
// 128 random bits, so a plain SHA-256 is enough and keeps the hot path cheap.

const scryptParams = { N: 16384, r: 8, p: 1, keyLength: 32 };

/**
 * Each scrypt holds 16 MiB and a libuv thread for tens of milliseconds, and anyone can make us
 * run one by guessing emails. At most two run at once (the other threads stay free for file
 * I/O); a bounded queue waits behind them, and past it the caller is told to come back.
 */
export const scryptSlots = { running: 0, limit: 2, waiting: [] as Array<() => void>, maxWaiting: 200 };

async function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  if (scryptSlots.running >= scryptSlots.limit) {
    if (scryptSlots.waiting.length >= scryptSlots.maxWaiting) {
      throw new TooManyRequests("too many logins are being verified right now; try again in a second", 1);
    }
    // The slot is handed over by the finishing caller, so `running` never overshoots.
    await new Promise<void>((resolve) => scryptSlots.waiting.push(resolve));
  } else {
    scryptSlots.running++;
  }
  try {
    return await new Promise((resolve, reject) =>
      scryptCallback(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))),
    );
  } finally {
    const next = scryptSlots.waiting.shift();
    if (next) next();
    else scryptSlots.running--;
  }
}

/** `scrypt$N$r$p$salt$hash`, salt and hash in base64url: the parameters travel with the hash. */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p, keyLength } = scryptParams;
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, keyLength, { N, r, p });
  return ["scrypt", N, r, p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await scrypt(password, Buffer.from(salt, "base64url"), expected.length, {
    N: Number(N),
    r: Number(r),
    p: Number(p),
  });
  return timingSafeEqual(key, expected);
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Compares two hex digests of equal length in constant time. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}
