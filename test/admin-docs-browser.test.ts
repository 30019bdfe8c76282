import { afterAll, beforeAll, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { createTestAccount, describeEachDialect, startTestApp, type TestApp } from "./support/app.js";
import { attributeOf, eventually, openBrowser, screenshots, type TestBrowser } from "./support/browser.js";

// The operator API's reference in a real browser: an operator authorises with the admin token and
// runs an operation from the page.

describeEachDialect("the operator API reference in a browser", (dialect) => {
  let app: TestApp;
  let browser: TestBrowser;
  let page: Page;
  beforeAll(async () => {
    app = await startTestApp(dialect);
    await createTestAccount(app);
    browser = await openBrowser(app.baseUrl);
    page = browser.page;
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("takes the admin token through Authorize and runs GET /accounts with it", async () => {
    await page.goto(`${app.baseUrl}/admin/docs`);
    await eventually(() => page.title()).toBe("Switchboard operator API reference");
    await page.getByRole("heading", { name: /Switchboard operator API/ }).waitFor();
    await eventually(attributeOf(page.getByRole("link", { name: "CallFire API v2 reference" }), "href")).toBe("/docs");
    if (dialect === "sqlite") await screenshots(page, "admin-docs");

    await page.getByRole("button", { name: "Authorize" }).first().click();
    const dialog = page.locator(".modal-ux");
    await dialog.locator("input").first().fill(app.adminToken);
    await dialog.locator("button.authorize").click();
    await dialog.locator("button.btn-done").click();

    const operation = page.locator("#operations-accounts-get_accounts");
    await operation.locator(".opblock-summary").click();
    await operation.getByRole("button", { name: "Try it out" }).click();
    await operation.getByRole("button", { name: "Execute" }).click();
    const status = operation.locator(".live-responses-table tr.response .response-col_status").first();
    await eventually(() => status.innerText()).toBe("200");
    expect(await operation.locator(".live-responses-table .microlight").first().innerText()).toContain('"totalCount"');
  }, 60_000);
});
