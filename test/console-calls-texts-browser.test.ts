import { sql } from "kysely";
import type { Page, Request } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { makeWav } from "./audio/helpers.js";
import { call, createTestAccount, describeEachDialect, startTestApp, type TestAccount, type TestApp } from "./support/app.js";
import { attributeOf, drawPng, eventually, openBrowser, screenshots, signIn, textOf, textsOf, type TestBrowser } from "./support/browser.js";
import { upload } from "./support/media.js";
import { addCredits, deliverAll, sendCalls, verifyCallerId } from "./support/sending.js";

// The console's Calls and Texts pages in a real browser, as an account holder uses them: send a
// test call from a verified caller ID playing an uploaded sound, watch it go READY → SELECTED →
// FINISHED in the sandbox simulator, play its recording, find it with the list's filters; the
// same for a text. The simulator's worker does not run on its own here: each step hands the due
// deliveries to it (deliverAll), so the page is seen in every state however slow the machine.

const browserStepTimeout = 60_000;
const callerId = "12135551189";

describeEachDialect("the console's calls and texts in a browser", (dialect) => {
  let app: TestApp;
  let owner: TestAccount;
  let browser: TestBrowser;
  let page: Page;
  const shoot = dialect === "sqlite" ? screenshots : async () => {};
  let soundId: number;
  let imageId: number;
  let testCallId: number;
  let recordingId: number;
  let testTextId: number;

  beforeAll(async () => {
    // No simulator delay: a call lasts as long as its sound, a text is done once taken.
    app = await startTestApp(dialect, { settings: { simulatorDelayMs: "0" } });
    owner = await createTestAccount(app);
    await verifyCallerId(app, owner, callerId);
    await addCredits(app, owner, 20);
    const chime = await upload(app, owner.api, Buffer.from(makeWav({ rate: 8_000, channels: 1, seconds: 2 })), { filename: "chime.wav" });
    soundId = chime.json.id;
    browser = await openBrowser(app.baseUrl);
    page = browser.page;
    imageId = (await upload(app, owner.api, await drawPng(page), { filename: "logo.png" })).json.id;
    await signIn(page, app.baseUrl, owner);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const nav = (name: string) => page.getByRole("navigation", { name: "Console" }).getByRole("link", { name, exact: true });
  const sends = (path: string) => {
    const seen: Request[] = [];
    page.on("request", (request) => request.method() === "POST" && new URL(request.url()).pathname === path && seen.push(request));
    return seen;
  };

  it("sends a test call with one Idempotency-Key across a retry, watches it finish in the simulator and plays its recording", async () => {
    await nav("Calls").click();
    await page.getByRole("heading", { level: 1, name: "Calls" }).waitFor();
    await page.getByText("No calls yet: send a test call above, or with POST /v2/calls.").waitFor();
    expect(await page.getByLabel("From (a verified caller ID)").inputValue()).toBe(callerId);
    await eventually(textsOf(page.getByLabel("Sound", { exact: true }).getByRole("option"))).toEqual([`chime.wav (audio/x-wav, media ${soundId})`]);
    await eventually(textsOf(page.getByRole("table").getByRole("row"))).toContain("…0001\tBUSY, 0 s");

    // The API's words, at the control that caused them.
    await page.getByLabel("To", { exact: true }).fill("12135");
    await page.getByRole("button", { name: "Send test call" }).click();
    await eventually(textOf(page.locator("#test-call-error"))).toMatch(/^body\[0\]\.phoneNumber: "12135" is not a valid phone number/);
    expect(await page.getByLabel("To", { exact: true }).getAttribute("aria-describedby")).toBe("test-call-to-hint test-call-error");
    expect(await page.getByLabel("To", { exact: true }).getAttribute("aria-invalid")).toBe("true");

    // The server creates the call, but its answer is lost on the way: the retry gets the same call.
    const posted = sends("/v2/calls");
    await page.route("**/v2/calls", async (route) => {
      await route.fetch();
      await route.abort("connectionreset");
    });
    await page.getByLabel("To", { exact: true }).fill("12135550100");
    await page.getByRole("button", { name: "Send test call" }).click();
    await eventually(textOf(page.locator("#test-call-error"))).toBe("the server could not be reached: check that it is running");
    await page.unroute("**/v2/calls");
    await page.getByRole("button", { name: "Send test call" }).click();
    const watch = page.getByRole("region", { name: /^Test call \d+$/ });
    await watch.waitFor();
    testCallId = Number((await watch.getByRole("heading", { level: 2 }).innerText()).replace("Test call ", ""));
    expect(posted).toHaveLength(2);
    const [first, retry] = await Promise.all(posted.map((request) => request.allHeaders()));
    expect(first!["idempotency-key"]).toMatch(/^console-[0-9a-f]{32}$/);
    expect(retry!["idempotency-key"]).toBe(first!["idempotency-key"]);
    expect(posted[1]!.postDataJSON()).toEqual([{ phoneNumber: "12135550100", fromNumber: callerId, liveMessageSoundId: soundId }]);
    const { json: found } = await call(app, "GET", "/v2/calls?toNumber=12135550100", { auth: owner.api });
    expect(found.items.map((item: { id: number }) => item.id)).toEqual([testCallId]);

    // READY until the platform (here the simulator) takes it, SELECTED while its sound plays, then FINISHED.
    const progress = watch.getByRole("progressbar", { name: `Progress of call ${testCallId}` });
    const status = watch.getByRole("status").first();
    await eventually(textOf(status)).toMatch(new RegExp(`^Call ${testCallId} is READY \\(queued for the platform\\) \\(\\d+ s\\)$`));
    expect(await progress.getAttribute("aria-valuetext")).toBe("READY (queued for the platform)");
    await deliverAll(app);
    await eventually(attributeOf(progress, "aria-valuetext")).toBe("SELECTED (taken by the platform)");
    await eventually(textOf(watch.locator("li[aria-current=step]"))).toBe("SELECTED taken by the platform");
    await eventually(async () => {
      await deliverAll(app);
      return textOf(status)();
    }).toBe(`Call ${testCallId} finished: LA (live answer).`);
    expect(await progress.getAttribute("value")).toBe("3");

    const record = watch.getByRole("region", { name: `Record ${testCallId} of call ${testCallId}` });
    await eventually(textsOf(record.getByRole("definition"))).toEqual(["LA (live answer)", expect.any(String), "1 credit", "— (not reported)"]);
    const { json: finished } = await call(app, "GET", `/v2/calls/${testCallId}`, { auth: owner.api });
    recordingId = finished.records[0].recordings[0].id;
    expect(finished.records[0]).toMatchObject({ result: "LA", billedAmount: 1 });

    const audio = watch.getByLabel(`Play recording “recording” of call ${testCallId}`);
    await audio.evaluate((element: HTMLAudioElement) => element.play());
    await expect.poll(() => audio.evaluate((element: HTMLAudioElement) => element.currentTime)).toBeGreaterThan(0.2);
    expect(await audio.evaluate((element: HTMLAudioElement) => Math.round(element.duration))).toBe(2);
    await audio.evaluate((element: HTMLAudioElement) => element.pause());
    const download = watch.getByRole("link", { name: `Download recording “recording” of call ${testCallId}` });
    expect([await download.getAttribute("href"), await download.getAttribute("download")]).toEqual([`/v2/calls/recordings/${recordingId}.mp3`, `call-${testCallId}-recording.mp3`]);
    // The download needs the session, like every /v2 read.
    const fetched = await page.evaluate(async (href) => {
      const response = await fetch(href);
      return [response.status, response.headers.get("content-type"), (await response.arrayBuffer()).byteLength];
    }, `/v2/calls/recordings/${recordingId}.mp3`);
    expect(fetched).toEqual([200, "audio/mpeg", finished.records[0].recordings[0].lengthInBytes]);
    expect((await fetch(`${app.baseUrl}/v2/calls/recordings/${recordingId}.mp3`)).status).toBe(401);
    await shoot(page, "calls");

    // Spoken messages are timed, not recorded; the voice is one of CallFire's.
    await page.getByLabel("A spoken message").check();
    await page.getByLabel("Message (text to speech)").fill("Your order has shipped");
    await page.getByLabel("Voice").selectOption("FEMALE2");
    await page.getByLabel("To", { exact: true }).fill("12135550001");
    await page.getByRole("button", { name: "Send test call" }).click();
    const busy = page.getByRole("region", { name: `Test call ${testCallId + 1}` });
    await eventually(async () => {
      await deliverAll(app);
      return textOf(busy.getByRole("status").first())();
    }).toBe(`Call ${testCallId + 1} finished: BUSY (busy).`);
    await busy.getByText("No recordings.").waitFor();
    expect((await call(app, "GET", `/v2/calls/${testCallId + 1}`, { auth: owner.api })).json).toMatchObject({ finalCallResult: "BUSY", toNumber: "12135550001" });
  }, browserStepTimeout);

  it("lists the calls with CallFire's filters and opens a call's details", async () => {
    const list = page.getByRole("list", { name: "Calls" });
    const titles = textsOf(list.getByRole("heading", { level: 3 }));
    await eventually(titles).toEqual([`Call ${testCallId + 1} to 12135550001`, `Call ${testCallId} to 12135550100`]);
    await eventually(textOf(page.getByRole("heading", { level: 2, name: /^Calls/ }))).toBe("Calls (2)");

    const filters = page.getByRole("form", { name: "Filter calls" });
    await filters.getByLabel("Result").selectOption("LA");
    await filters.getByRole("button", { name: "Apply filters" }).click();
    await eventually(titles).toEqual([`Call ${testCallId} to 12135550100`]);
    await eventually(textOf(page.getByRole("heading", { level: 2, name: /^Calls/ }))).toBe("Calls (1 matching)");

    await filters.getByRole("button", { name: "Clear filters" }).click();
    await filters.getByLabel("To number").fill("+1 213 555 0001".replaceAll(" ", ""));
    await filters.getByLabel("State").selectOption("FINISHED");
    await filters.getByRole("button", { name: "Apply filters" }).click();
    await eventually(titles).toEqual([`Call ${testCallId + 1} to 12135550001`]);

    // Created in the coming hour: none yet (the inputs are in the browser's time zone).
    await filters.getByRole("button", { name: "Clear filters" }).click();
    await filters.getByLabel("Created from").fill(await localDateTime(page, Date.now() + 3_600_000));
    await filters.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText("No calls match these filters.").waitFor();
    await filters.getByLabel("Created from").fill(await localDateTime(page, Date.now() - 3_600_000));
    await filters.getByLabel("Created until").fill(await localDateTime(page, Date.now() + 60_000));
    await filters.getByRole("button", { name: "Apply filters" }).click();
    await eventually(titles).toHaveLength(2);

    // A filter the API refuses: its words at that filter.
    await filters.getByLabel("Batch id").fill("first");
    await filters.getByRole("button", { name: "Apply filters" }).click();
    await eventually(textOf(page.locator("#call-filter-error"))).toBe("query parameter batchId: must be integer");
    expect(await filters.getByLabel("Batch id").getAttribute("aria-describedby")).toBe("call-filter-error");
    const { json: sent } = await call(app, "GET", `/v2/calls/${testCallId}`, { auth: owner.api });
    await filters.getByLabel("Batch id").fill(String(sent.batchId));
    await filters.getByRole("button", { name: "Apply filters" }).click();
    await eventually(titles).toEqual([`Call ${testCallId} to 12135550100`]);
    expect(await page.locator("#call-filter-error").count()).toBe(0);

    // Details, by keyboard: getCall's record and recordings, in place.
    const item = list.getByRole("listitem", { name: `Call ${testCallId} to 12135550100` });
    await item.getByRole("button", { name: `Show details of call ${testCallId}` }).focus();
    await page.keyboard.press("Enter");
    await eventually(attributeOf(item.getByRole("button", { name: `Hide details of call ${testCallId}` }), "aria-expanded")).toBe("true");
    const record = item.getByRole("region", { name: `Record ${testCallId} of call ${testCallId}` });
    await eventually(textsOf(record.getByRole("definition"))).toEqual(["LA (live answer)", expect.any(String), "1 credit", "— (not reported)"]);
    await eventually(attributeOf(item.getByLabel(`Play recording “recording” of call ${testCallId}`), "src")).toBe(`/v2/calls/recordings/${recordingId}.mp3`);
    await filters.getByRole("button", { name: "Clear filters" }).click();
    await eventually(titles).toHaveLength(2);
  }, browserStepTimeout);

  it("sends a test text by keyboard with an image, watches it finish and finds the failed one by its result", async () => {
    await nav("Texts").click();
    await page.getByRole("heading", { level: 1, name: "Texts" }).waitFor();
    await page.getByText("No texts yet: send a test text above, or with POST /v2/texts.").waitFor();
    await page.getByLabel("Attach (optional)").waitFor();

    const posted = sends("/v2/texts");
    await page.getByLabel("To", { exact: true }).focus();
    await page.keyboard.type("12135550100");
    await page.keyboard.press("Tab");
    await page.keyboard.type("Your order has shipped");
    await eventually(textOf(page.locator("#test-text-length"))).toBe("22 characters: billed as 1 text.");
    await page.keyboard.press("Tab");
    await page.getByLabel("Attach (optional)").selectOption(String(imageId));
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    const watch = page.getByRole("region", { name: /^Test text \d+$/ });
    await watch.waitFor();
    testTextId = Number((await watch.getByRole("heading", { level: 2 }).innerText()).replace("Test text ", ""));
    expect(posted[0]!.postDataJSON()).toEqual([{ phoneNumber: "12135550100", fromNumber: callerId, message: "Your order has shipped", media: [{ id: imageId }] }]);
    expect((await posted[0]!.allHeaders())["idempotency-key"]).toMatch(/^console-[0-9a-f]{32}$/);

    const progress = watch.getByRole("progressbar", { name: `Progress of text ${testTextId}` });
    await eventually(attributeOf(progress, "aria-valuetext")).toBe("READY (queued for the platform)");
    await deliverAll(app);
    await eventually(textOf(watch.getByRole("status").first())).toBe(`Text ${testTextId} finished: SENT.`);
    await eventually(textOf(watch.locator("blockquote"))).toBe("Your order has shipped");
    const preview = watch.getByRole("img", { name: "Preview of logo.png" });
    await expect.poll(() => preview.evaluate((element: HTMLImageElement) => element.naturalWidth)).toBeGreaterThan(0);
    const record = watch.getByRole("region", { name: `Record ${testTextId} of text ${testTextId}` });
    await eventually(textsOf(record.getByRole("definition"))).toEqual(["SENT", expect.any(String), "1 credit"]);
    await shoot(page, "texts");

    // The sandbox's …0001 fails as a carrier error, for nothing; a long message says how it is billed.
    await page.getByLabel("To", { exact: true }).fill("12135550001");
    await page.getByLabel("Message", { exact: true }).fill("x".repeat(200));
    await eventually(textOf(page.locator("#test-text-length"))).toBe("200 characters: billed as 2 segments of up to 153 characters.");
    await page.getByLabel("Attach (optional)").selectOption("");
    await page.getByRole("button", { name: "Send test text" }).click();
    const failed = page.getByRole("region", { name: `Test text ${testTextId + 1}` });
    await eventually(async () => {
      await deliverAll(app);
      return textOf(failed.getByRole("status").first())();
    }).toBe(`Text ${testTextId + 1} finished: CARRIER_ERROR (carrier error).`);
    await eventually(textsOf(failed.getByRole("region", { name: `Record ${testTextId + 1} of text ${testTextId + 1}` }).getByRole("definition"))).toEqual([
      "CARRIER_ERROR (carrier error)",
      expect.any(String),
      "0 credits",
    ]);

    const list = page.getByRole("list", { name: "Texts" });
    const titles = textsOf(list.getByRole("heading", { level: 3 }));
    await eventually(titles).toEqual([`Text ${testTextId + 1} to 12135550001`, `Text ${testTextId} to 12135550100`]);
    const filters = page.getByRole("form", { name: "Filter texts" });
    await filters.getByLabel("Result").selectOption("CARRIER_ERROR");
    await filters.getByRole("button", { name: "Apply filters" }).click();
    await eventually(titles).toEqual([`Text ${testTextId + 1} to 12135550001`]);
    await filters.getByLabel("Result").selectOption("SENT");
    await filters.getByRole("button", { name: "Apply filters" }).click();
    await eventually(titles).toEqual([`Text ${testTextId} to 12135550100`]);
    await list.getByRole("button", { name: `Show details of text ${testTextId}` }).click();
    await eventually(textOf(list.locator("blockquote"))).toBe("Your order has shipped");
    await filters.getByRole("button", { name: "Clear filters" }).click();
  }, browserStepTimeout);

  it("says “more than 10,000” where findCalls stops counting, and pages on", async () => {
    // 10,001 older calls, written into the database at once (sending that many would take minutes).
    const created = sql.lit(Date.now() - 86_400_000);
    await sql`insert into "call" (account_id, from_number, to_number, start_time, duration_seconds, created, state, inbound, modified)
      with recursive n(i) as (select 0 union all select i + 1 from n where i < 10000)
      select ${sql.lit(owner.id)}, '12135551189', '13105550100', ${created} - i, 0, ${created} - i, 'READY', 0, ${created} - i from n`.execute(app.database.db);

    await nav("Calls").click();
    await eventually(textOf(page.getByRole("heading", { level: 2, name: /^Calls/ }))).toBe("Calls (more than 10,000)");
    const pager = page.getByRole("navigation", { name: "Call pages" });
    await eventually(textOf(pager.locator("span"))).toBe("1–20 of more than 10,000");
    await pager.getByRole("button", { name: "Next page" }).click();
    await eventually(textOf(pager.locator("span"))).toBe("21–40 of more than 10,000");
    expect(await pager.getByRole("button", { name: "Previous page" }).isEnabled()).toBe(true);
  }, browserStepTimeout);

  it("shows a second account none of it: no calls, no texts, and the first one's ids are 404s", async () => {
    const other = await createTestAccount(app);
    const second = await openBrowser(app.baseUrl);
    try {
      const page2 = second.page;
      await signIn(page2, app.baseUrl, other, "/console/calls");
      await page2.getByText("No calls yet: send a test call above, or with POST /v2/calls.").waitFor();
      // With no caller ID and no sound, the page says where to get them.
      await eventually(attributeOf(page2.getByRole("link", { name: "verify a number on the Caller IDs page" }), "href")).toBe("/console/caller-ids");
      // Without sounds, the call speaks a message; asked for a sound, the page says where to upload one.
      await eventually(() => page2.getByLabel("A spoken message").isChecked()).toBe(true);
      await page2.getByLabel("An uploaded sound").check();
      await eventually(attributeOf(page2.getByRole("link", { name: "upload an MP3, WAV or M4A on the Media page" }), "href")).toBe("/console/media");
      expect(await page2.getByRole("button", { name: "Send test call" }).isDisabled()).toBe(true);
      await page2.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Texts", exact: true }).click();
      await page2.getByText("No texts yet: send a test text above, or with POST /v2/texts.").waitFor();

      const statuses = await page2.evaluate(
        async (paths) => Promise.all(paths.map(async (path) => (await fetch(path)).status)),
        [`/v2/calls/${testCallId}`, `/v2/calls/recordings/${recordingId}.mp3`, `/v2/calls/${testCallId}/recordings`, `/v2/texts/${testTextId}`],
      );
      expect(statuses).toEqual([404, 404, 404, 404]);
      const listed = await page2.evaluate(async (id) => (await (await fetch(`/v2/calls?id=${id}`)).json()).totalCount, testCallId);
      expect(listed).toBe(0);
    } finally {
      await second.close();
    }
  }, browserStepTimeout);
});

/** `ms` as a datetime-local value in the browser's time zone, to the minute. */
function localDateTime(page: Page, ms: number): Promise<string> {
  return page.evaluate((time) => {
    const date = new Date(time);
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }, ms);
}
