// Issue 10 in the browser: every page runs under the Content-Security-Policy
// (own script and wasm, the inline bootstrap by nonce) with no violations and
// still hydrates; a console without a password says so; mutations appear in
// the audit log with their user.
import { expect, test, type Page } from "@playwright/test";
import { hydrated } from "../lab";

/** Collects CSP violations the page reports, from the DOM event and the console. */
async function watchViolations(page: Page): Promise<string[]> {
  const violations: string[] = [];
  page.on("console", (message) => {
    const text = message.text();
    if (/Content Security Policy|Content-Security-Policy/i.test(text)) violations.push(text);
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`Content Security Policy violation: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  return violations;
}

test("every page loads under the CSP with no violations and hydrates", async ({ page }) => {
  const violations = await watchViolations(page);
  const response = await page.goto("/");
  const policy = response?.headers()["content-security-policy"] ?? "";
  expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=_-]+' 'wasm-unsafe-eval'/);
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).not.toContain("unsafe-inline");
  expect(response?.headers()["x-content-type-options"]).toBe("nosniff");
  expect(response?.headers()["referrer-policy"]).toBe("same-origin");
  await hydrated(page);

  // Every page the navigation links to, so new pages are covered too.
  const hrefs = await page.getByRole("navigation", { name: "Sections" }).getByRole("link").evaluateAll((links) =>
    links.map((link) => (link as HTMLAnchorElement).getAttribute("href") ?? ""),
  );
  expect(hrefs).toContain("/audit");
  for (const href of hrefs) {
    await page.goto(href);
    await hydrated(page);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  }
  expect(violations).toEqual([]);
});

test("without a password every page says so", async ({ page }) => {
  await page.goto("/history");
  await expect(page.getByTestId("no-password-banner")).toContainText("No password is set");
  await expect(page.getByRole("button", { name: "Log out" })).toHaveCount(0);
});

test("a retention change from the History page is in the audit log, newest first", async ({ page }) => {
  const violations = await watchViolations(page);
  await page.goto("/history");
  await hydrated(page);
  const days = String(100 + Math.floor(Math.random() * 800));
  await page.getByLabel("Days to keep (empty keeps everything)").fill(days);
  await page.getByRole("button", { name: "Save retention" }).click();
  await expect(page.getByTestId("retention")).toHaveText(`Keeping ${days} days.`);

  await page.getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Audit log" })).toBeVisible();
  const newest = page.getByRole("table", { name: "Audit log" }).locator("tbody tr").first();
  await expect(newest).toContainText("local (no password)");
  await expect(newest).toContainText("history.retention");
  await expect(newest).toContainText(`keep ${days} days`);
  await expect(newest).toContainText("succeeded");
  expect(violations).toEqual([]);
});
