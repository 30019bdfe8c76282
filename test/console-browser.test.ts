import { afterAll, beforeAll, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { makeWav } from "./audio/helpers.js";
import { basic, call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { attributeOf, drawPng, eventually, openBrowser, screenshots, signIn, textOf, textsOf, type TestBrowser } from "./support/browser.js";
import { admin } from "./support/calls.js";

// The web console in a real browser (Debian's chromium, driven by playwright-core), the way an
// account holder uses it: every control is found by its role and accessible name. The steps of
// one account's visit build on each other, in order; the run leaves screenshots of every page at
// 1280 and 360 px in test-results/screenshots/.

/** A step drives many requests through a browser; a stuck control fails sooner, with its name. */
const browserStepTimeout = 60_000;

describeEachDialect("the web console in a browser", (dialect) => {
  let app: TestApp;
  let owner: TestAccount;
  let browser: TestBrowser;
  let page: Page;
  // Screenshots once, from the first dialect.
  const shoot = dialect === "sqlite" ? screenshots : async () => {};
  const createdCredential: { username?: string; password?: string } = {};
  let uploadedMediaId: number;

  beforeAll(async () => {
    app = await startTestApp(dialect);
    owner = await createTestAccount(app);
    browser = await openBrowser(app.baseUrl);
    page = browser.page;
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const nav = (name: string) => page.getByRole("navigation", { name: "Console" }).getByRole("link", { name, exact: true });

  it("shows the docs landing page and our own Swagger UI", async () => {
    await page.goto(`${app.baseUrl}/`);
    await eventually(textOf(page.getByRole("heading", { level: 1 }))).toBe("A CallFire API v2 server you run yourself");
    await eventually(textOf(page.locator("pre code").first())).toContain(`curl -u USERNAME:PASSWORD ${app.baseUrl}/v2/me/account`);
    for (const [name, href] of [
      ["Open the console", "/console"],
      ["Browse the API reference", "/docs"],
      ["Swagger 2.0", "/v2/api-docs/swagger.json"],
      ["OpenAPI 3", "/openapi.json"],
      ["Using CallFire's SDKs", "/readme#using-callfires-sdks"],
    ]) {
      await eventually(attributeOf(page.getByRole("link", { name, exact: true }), "href")).toBe(href);
    }
    await shoot(page, "landing");

    await page.goto(`${app.baseUrl}/docs`);
    await eventually(() => page.title()).toBe("Switchboard API reference");
    await eventually(attributeOf(page.getByRole("link", { name: "Web console" }), "href")).toBe("/console");
    await page.getByRole("heading", { name: /Switchboard: CallFire API v2/ }).waitFor();
    await shoot(page, "docs");
  }, browserStepTimeout);

  it("signs in with the account's login only, and says why not in words", async () => {
    await page.goto(`${app.baseUrl}/console/media`);
    await page.getByRole("heading", { name: "Sign in to the console" }).waitFor();
    await shoot(page, "sign-in");

    await page.getByLabel("Email").fill(owner.apiUsername);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await eventually(textOf(page.getByRole("alert"))).toBe("wrong email or password");
    await eventually(attributeOf(page.getByLabel("Password"), "aria-invalid")).toBe("true");

    const credential = await app.services.credentials.create(owner.id, "cannot sign in");
    await page.getByLabel("Email").fill(credential.username);
    await page.getByLabel("Password").fill(credential.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await eventually(textOf(page.getByRole("alert"))).toBe("API credentials cannot sign in to the console: use the account's email and password");

    // By keyboard alone: the fields in order, Enter to send.
    await page.getByLabel("Email").fill("");
    await page.getByLabel("Email").focus();
    await page.keyboard.type(owner.email);
    await page.keyboard.press("Tab");
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.type(owner.password);
    await page.keyboard.press("Enter");
    // Signing in keeps the page that was asked for.
    await page.getByRole("heading", { level: 1, name: "Media" }).waitFor();
    await eventually(attributeOf(nav("Media"), "aria-current")).toBe("page");
    const [cookie] = await browser.context.cookies(app.baseUrl);
    expect(cookie).toMatchObject({ name: "switchboard_session", httpOnly: true, sameSite: "Strict", secure: false, path: "/" });
  }, browserStepTimeout);

  it("creates a credential, shows its password once with a copy button, and disables and deletes it", async () => {
    await nav("API credentials").click();
    await page.getByRole("heading", { level: 1, name: "API credentials" }).waitFor();
    await page.getByLabel("Name").fill("ci pipeline");
    await page.getByRole("button", { name: "Create credential" }).click();

    const secret = page.getByRole("region", { name: "New credential “ci pipeline”" });
    await eventually(textOf(secret)).toContain("it is shown only this once");
    createdCredential.username = await secret.getByLabel("Username").inputValue();
    createdCredential.password = await secret.getByLabel("Password").inputValue();
    expect(createdCredential.username).toMatch(/^[0-9a-f]{12}$/);
    expect(createdCredential.password).toMatch(/^[0-9a-f]{32}$/);
    await secret.getByRole("button", { name: "Copy password" }).click();
    await secret.getByRole("status").filter({ hasText: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(createdCredential.password);
    const auth = basic(createdCredential.username, createdCredential.password);
    expect((await call(app, "GET", "/v2/me/account", { auth })).status).toBe(200);

    const item = page.getByRole("listitem", { name: "ci pipeline" });
    await eventually(textOf(item)).toContain(`****${createdCredential.password.slice(-4)}`);
    await shoot(page, "api-credentials");

    await page.getByRole("button", { name: "I have saved the password" }).click();
    await secret.waitFor({ state: "detached" });
    await item.getByRole("button", { name: "Disable" }).click();
    await eventually(textOf(item)).toContain("Disabled");
    expect((await call(app, "GET", "/v2/me/account", { auth })).status).toBe(401);
    await item.getByRole("button", { name: "Enable" }).click();
    await eventually(textOf(item)).toContain("Enabled");
    expect((await call(app, "GET", "/v2/me/account", { auth })).status).toBe(200);

    await item.getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete the credential “ci pipeline”?" });
    // The question takes the focus, on its safe answer; Escape leaves it.
    await eventually(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await item.waitFor();
    await item.getByRole("button", { name: "Delete" }).click();
    await dialog.getByRole("button", { name: "Delete credential" }).click();
    await item.waitFor({ state: "detached" });
    expect((await call(app, "GET", "/v2/me/account", { auth })).status).toBe(401);

    // An error from the API is shown at the control that caused it.
    await page.getByLabel("Name").fill("x".repeat(255));
    await page.getByLabel("Name").evaluate((input: HTMLInputElement) => input.removeAttribute("maxlength"));
    await page.getByLabel("Name").fill("x".repeat(256));
    await page.getByRole("button", { name: "Create credential" }).click();
    await eventually(textOf(page.locator("#create-error"))).toBe("body name: must NOT have more than 255 characters");
    await eventually(attributeOf(page.getByLabel("Name"), "aria-describedby")).toBe("create-error");
  }, browserStepTimeout);

  it("verifies a caller ID with the code the sandbox shows", async () => {
    await nav("Caller IDs").click();
    await page.getByText("No verified numbers yet.").waitFor();
    await page.getByLabel("Phone number").fill("12135");
    await page.getByRole("button", { name: "Send verification code" }).click();
    await eventually(textOf(page.locator("#send-error"))).toContain('callerid: "12135" is not a valid phone number');

    await page.getByLabel("Phone number").fill("+1 213 555 1189".replaceAll(" ", ""));
    await page.getByRole("button", { name: "Send verification code" }).click();
    const sandbox = page.getByRole("region", { name: "Sandbox only The code the call would say" });
    await eventually(textOf(sandbox)).toContain("Code for 12135551189:");
    const code = (await sandbox.locator(".sandbox-code").textContent())!;
    const { json: outbox } = await admin(app, "GET", `/outbox?accountId=${owner.id}&to=12135551189`);
    expect(code).toBe(outbox.items[0].code);
    await shoot(page, "caller-ids");

    await page.getByLabel("Verification code").fill(code === "999999" ? "999998" : "999999");
    await page.getByRole("button", { name: "Verify" }).click();
    await eventually(textOf(page.locator("#verify-error"))).toMatch(/^That is not the code the call said/);
    await page.getByLabel("Verification code").fill(code);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("status").filter({ hasText: "+12135551189 is verified" }).waitFor();
    await eventually(textsOf(page.getByRole("list", { name: "Verified caller IDs" }).getByRole("listitem"))).toEqual(["12135551189"]);
    expect((await call(app, "GET", "/v2/me/callerids", { auth: owner.api })).json).toEqual({ items: [{ phoneNumber: "12135551189" }] });
  }, browserStepTimeout);

  it("uploads a WAV by drag and drop with progress, plays it to its end and seeks in it", async () => {
    await nav("Media").click();
    await page.getByText("No media yet: upload some above.").waitFor();

    // About 2 MiB at 1 MiB/s: long enough to watch the progress bar move.
    const wav = Buffer.from(makeWav({ rate: 44_100, channels: 1, seconds: 24 }));
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1024 * 1024 });
    const transfer = await page.evaluateHandle((base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], "greeting.wav", { type: "audio/wav" }));
      return data;
    }, wav.toString("base64"));
    await page.getByTestId("dropzone").dispatchEvent("drop", { dataTransfer: transfer });
    const progress = page.getByRole("progressbar", { name: "Uploading greeting.wav" });
    await progress.waitFor();
    await expect.poll(async () => Number(await progress.getAttribute("value")), { timeout: 20_000 }).toBeGreaterThan(0);
    await page.getByRole("status").filter({ hasText: /^Uploaded as media \d+\.$/ }).waitFor({ timeout: 30_000 });
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    const item = page.getByRole("listitem", { name: "greeting.wav" });
    await eventually(textOf(item)).toContain("audio/x-wav");
    const { json: found } = await call(app, "GET", "/v2/media?filter=greeting", { auth: owner.api });
    uploadedMediaId = found.items[0].id;

    const ranges: number[] = [];
    page.on("response", (response) => response.url().endsWith(`/v2/media/${uploadedMediaId}.wav`) && ranges.push(response.status()));
    const audio = item.getByLabel("Play greeting.wav");
    await audio.evaluate((element: HTMLAudioElement) => element.play());
    await expect.poll(() => audio.evaluate((element: HTMLAudioElement) => element.currentTime)).toBeGreaterThan(0.2);
    expect(await audio.evaluate((element: HTMLAudioElement) => [element.duration, element.seekable.end(0)])).toEqual([24, 24]);
    // Seek to a second before the end, which needs the server's byte ranges, and play on to the end.
    await audio.evaluate(
      (element: HTMLAudioElement) =>
        new Promise<void>((resolve) => {
          element.addEventListener("seeked", () => resolve(), { once: true });
          element.currentTime = 23;
        }),
    );
    expect(await audio.evaluate((element: HTMLAudioElement) => element.currentTime)).toBeGreaterThanOrEqual(23);
    await expect.poll(() => audio.evaluate((element: HTMLAudioElement) => element.ended), { timeout: 10_000 }).toBe(true);
    expect(await audio.evaluate((element: HTMLAudioElement) => element.currentTime)).toBe(24);
    expect(ranges.length).toBeGreaterThan(0);
    expect(ranges.every((status) => status === 206)).toBe(true);

    // An image is previewed; the public URL is copied and works without credentials.
    const png = await drawPng(page);
    await page.getByLabel("Files to upload").setInputFiles({ name: "logo.png", mimeType: "image/png", buffer: png });
    const image = page.getByRole("listitem", { name: "logo.png" });
    await image.getByRole("img", { name: "Preview of logo.png" }).waitFor();
    await expect.poll(() => image.getByRole("img").evaluate((element: HTMLImageElement) => element.naturalWidth)).toBeGreaterThan(0);
    await image.getByRole("button", { name: "Copy public URL" }).click();
    const publicUrl = await page.evaluate(() => navigator.clipboard.readText());
    expect(publicUrl).toBe(await image.getByLabel("Public URL (no credentials needed)").inputValue());
    const anonymous = await fetch(publicUrl);
    expect([anonymous.status, Buffer.from(await anonymous.arrayBuffer()).equals(png)]).toEqual([200, true]);
    await eventually(attributeOf(image.getByRole("link", { name: "Download logo.png" }), "download")).toBe("logo.png");

    // The same bytes again: the API's words, at the upload.
    await page.getByLabel("Files to upload").setInputFiles({ name: "again.png", mimeType: "image/png", buffer: png });
    await eventually(textOf(page.getByRole("alert").filter({ hasText: "again.png was not stored:" }))).toContain("mediaId:");
    await shoot(page, "media");

    await page.getByLabel("Search by name").fill("GREET");
    await eventually(textsOf(page.getByRole("list", { name: "Media files" }).getByRole("heading"))).toEqual(["greeting.wav"]);
  }, browserStepTimeout);

  it("charts the ledger's usage per day after the operator ingests calls and texts", async () => {
    await admin(app, "PUT", `/accounts/${owner.id}/plan`, { name: "Gold", monthlyCredits: 500, creditsPerCallMinute: 1, creditsPerText: 1 });
    await admin(app, "POST", `/accounts/${owner.id}/credits`, { amount: 12.5 });
    await admin(app, "POST", `/accounts/${owner.id}/calls`, { fromNumber: "12135551189", toNumber: "13105550100", startTime: Date.now() - 1000, durationSeconds: 61 });
    await admin(app, "POST", `/accounts/${owner.id}/texts`, { count: 3 });

    await nav("Overview").click();
    const chart = page.getByRole("img", { name: /^Bar chart of credit usage per day/ });
    await eventually(attributeOf(chart, "aria-label")).toBe("Bar chart of credit usage per day over the last 30 days; totals: 2 call minutes, 3 texts, 5 credits");
    expect(await chart.evaluate((canvas: HTMLCanvasElement) => canvas.width)).toBeGreaterThan(0);
    await shoot(page, "overview");
    await page.getByText("The numbers, day by day").click();
    const todayRow = page.getByRole("row").last();
    await eventually(textsOf(todayRow.getByRole("cell"))).toEqual(["2", "3", "5"]);
    await eventually(attributeOf(page.getByLabel("Plan credits left"), "value")).toBe("495");
    await page.getByRole("definition").filter({ hasText: "12.5 credits" }).waitFor();
  }, browserStepTimeout);

  it("signs out, after which the old session cookie is refused", async () => {
    const [cookie] = await browser.context.cookies(app.baseUrl);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to the console" }).waitFor();
    await eventually(textOf(page.getByRole("status"))).toBe("You are signed out.");
    expect(await browser.context.cookies(app.baseUrl)).toEqual([]);
    const replayed = await call(app, "GET", "/v2/me/account", { headers: { cookie: `switchboard_session=${cookie!.value}` } });
    expect([replayed.status, replayed.json.message]).toEqual([401, "no console session, or it has ended: sign in again"]);
  }, browserStepTimeout);

  it("shows a second account none of the first one's data", async () => {
    const other = await createTestAccount(app);
    const second = await openBrowser(app.baseUrl);
    try {
      const page2 = second.page;
      await signIn(page2, app.baseUrl, other);
      await eventually(attributeOf(page2.getByRole("img", { name: /^Bar chart/ }), "aria-label")).toMatch(/totals: 0 call minutes, 0 texts, 0 credits$/);
      await page2.getByRole("link", { name: "API credentials" }).click();
      await eventually(textsOf(page2.getByRole("list", { name: "API credentials" }).getByRole("heading"))).toEqual(["test"]);
      await page2.getByRole("link", { name: "Caller IDs" }).click();
      await page2.getByText("No verified numbers yet.").waitFor();
      await page2.getByRole("link", { name: "Media", exact: true }).click();
      await page2.getByText("No media yet: upload some above.").waitFor();

      // Through its session, the first account's things do not exist.
      const statuses = await page2.evaluate(
        async ([id]) =>
          Promise.all([`/v2/media/${id}`, `/v2/media/${id}.wav`, "/console/api/callerids/12135551189/sandbox-code"].map(async (url) => (await fetch(url)).status)),
        [uploadedMediaId],
      );
      expect(statuses).toEqual([404, 404, 404]);
    } finally {
      await second.close();
    }
  }, browserStepTimeout);
});
