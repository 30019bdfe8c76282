import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext, type Locator, type Page } from "playwright-core";
import { expect } from "vitest";

/** Debian's chromium (.ci/run installs it): playwright-core cannot download a browser here. */
export const chromiumPath = "/usr/bin/chromium";

const flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

export const screenshotDir = path.resolve(import.meta.dirname, "../../test-results/screenshots");

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** A fresh browser profile (its own --user-data-dir), allowed to use the clipboard on `origin`. */
export async function openBrowser(origin: string): Promise<TestBrowser> {
  if (!fs.existsSync(chromiumPath)) throw new Error(`no browser at ${chromiumPath}: apt-get install -y chromium (as .ci/run does)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "switchboard-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: flags,
    viewport: { width: 1280, height: 800 },
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  // Shorter than a test's timeout, so a control that never shows up is named in the failure.
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The page at 1280 px and at 360 px wide, whole, into test-results/screenshots/<name>-<width>.png. */
export async function screenshots(page: Page, name: string): Promise<void> {
  fs.mkdirSync(screenshotDir, { recursive: true });
  for (const [width, height] of [[1280, 800], [360, 740]] as const) {
    await page.setViewportSize({ width, height });
    // Two frames: the chart redraws for its new size on the first.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    await page.screenshot({ path: path.join(screenshotDir, `${name}-${width}.png`), fullPage: true });
    // Nothing wider than the window: at 360 px a page scrolls down, never sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name} at ${width} px`).toBe(width);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

/** Polls until the assertion holds: pages answer when their requests do, not on a schedule. */
export const eventually = <T>(read: () => Promise<T> | T) => expect.poll(read, { timeout: 15_000, interval: 50 });

export const textOf = (locator: Locator) => () => locator.innerText();
export const textsOf = (locator: Locator) => () => locator.allInnerTexts();
export const attributeOf = (locator: Locator, name: string) => () => locator.getAttribute(name);

/** Signs in to the console with the account's login, at `path`, and waits for that page. */
export async function signIn(page: Page, baseUrl: string, account: { email: string; password: string }, path = "/console"): Promise<void> {
  await page.goto(`${baseUrl}${path}`);
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** A PNG big enough to see in a preview, drawn by the browser itself. */
export async function drawPng(page: Page): Promise<Buffer> {
  const dataUrl = await page.evaluate(() => {
    const canvas = document.createElement("canvas");
    canvas.width = 480;
    canvas.height = 240;
    const context = canvas.getContext("2d")!;
    const gradient = context.createLinearGradient(0, 0, 480, 240);
    gradient.addColorStop(0, "#2b6cb0");
    gradient.addColorStop(1, "#38a169");
    context.fillStyle = gradient;
    context.fillRect(0, 0, 480, 240);
    context.fillStyle = "#fff";
    context.font = "bold 40px sans-serif";
    context.fillText("Switchboard", 110, 135);
    return canvas.toDataURL("image/png");
  });
  return Buffer.from(dataUrl.slice(dataUrl.indexOf(",") + 1), "base64");
}
