import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./support/cli.js";

/** A TCP server on a loopback port; `silent` accepts connections and never says a word. */
async function listening(silent = false): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    if (!silent) socket.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe("switchboard serve, when it cannot start", { timeout: 120_000 }, () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-startup-"));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("says in one line that the port is in use, with exit code 2, and creates no demo account it could not show", async () => {
    const taken = await listening();
    try {
      const result = await runCli(["serve", "--port", String(taken.port), "--data-dir", dataDir]);
      expect(result).toEqual({
        code: 2,
        stdout: "",
        stderr: `switchboard: SWITCHBOARD_PORT (--port): 127.0.0.1:${taken.port} is already in use by another program: stop it, or choose another port\n`,
      });
    } finally {
      await taken.close();
    }
    expect(await runCli(["account", "list"], { SWITCHBOARD_DATA_DIR: dataDir })).toMatchObject({ code: 0, stdout: "0 account(s)\n" });
  });

  it("says in one line that PostgreSQL refuses connections, naming the setting and not the password", async () => {
    const closed = await listening();
    await closed.close();
    const result = await runCli(["serve", "--data-dir", dataDir, "--database-url", `postgres://switchboard:hunter2@127.0.0.1:${closed.port}/switchboard`]);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr:
        `switchboard: SWITCHBOARD_DATABASE_URL (--database-url): cannot use PostgreSQL at 127.0.0.1:${closed.port}/switchboard ` +
        `(connect ECONNREFUSED 127.0.0.1:${closed.port}): check that it is running and reachable, and the URL's user, password and database\n`,
    });
  });

  it("gives up on a PostgreSQL that accepts the connection and never answers, in one line", async () => {
    const silent = await listening(true);
    try {
      const result = await runCli(["serve", "--data-dir", dataDir, "--database-url", `postgres://switchboard@127.0.0.1:${silent.port}/switchboard`]);
      expect(result).toEqual({
        code: 2,
        stdout: "",
        stderr:
          `switchboard: SWITCHBOARD_DATABASE_URL (--database-url): cannot use PostgreSQL at 127.0.0.1:${silent.port}/switchboard ` +
          "(timeout expired): check that it is running and reachable, and the URL's user, password and database\n",
      });
    } finally {
      await silent.close();
    }
  });

  it("says in one line that the data directory is a file", async () => {
    const file = path.join(dataDir, "not-a-directory");
    fs.writeFileSync(file, "");
    for (const dir of [file, path.join(file, "below")]) {
      expect(await runCli(["serve", "--data-dir", dir])).toEqual({
        code: 2,
        stdout: "",
        stderr: `switchboard: SWITCHBOARD_DATA_DIR (--data-dir): ${file} is a file, not a directory: remove it or choose another directory\n`,
      });
    }
  });

  it("says in one line that the data directory cannot be written", async () => {
    // A directory no process, root included, can create a file in.
    const result = await runCli(["serve", "--data-dir", "/proc/self"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^switchboard: SWITCHBOARD_DATA_DIR \(--data-dir\): \/proc\/self is not writable \([^\n]+\): fix its permissions or choose another directory\n$/);
  });

  it.each([["serve"], ["migrate"]])("%s says in one line that --data-dir /proc/nope cannot be created, rather than hanging", async (command) => {
    const result = await runCli([command, "--data-dir", "/proc/nope"]);
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr:
        "switchboard: SWITCHBOARD_DATA_DIR (--data-dir): cannot create /proc/nope (ENOENT: no such file or directory, mkdir '/proc/nope'): " +
        "choose a directory this user can create\n",
    });
  });
});
