import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The server serves the web pages from dist/web: built first when missing or stale.
    globalSetup: ["./test/support/web-build.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
