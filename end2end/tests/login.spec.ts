// Logging in to a console with a password. The console `make e2e` starts has
// none (loopback), so these run only against one started with a password
// and given to the tests as KEYWATCH_E2E_PASSWORD, e.g.
//   KEYWATCH_ADMIN_PASSWORD_HASH="$(printf '%s\n' "$PW" | keywatch user hash-password)" keywatch serve ...
//   KEYWATCH_E2E_PASSWORD="$PW" npx playwright test tests/login.spec.ts
import { expect, test } from "@playwright/test";

const password = process.env.KEYWATCH_E2E_PASSWORD ?? "";

test.describe("with a password", () => {
  test.skip(password === "", "the console under test runs without a password");

  test("pages redirect to the login, which lets the admin in and out", async ({ page }) => {
    const violations: string[] = [];
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto("/history");
    await expect(page).toHaveURL(/\/login\?next=\/history$/);

    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page.getByRole("alert")).toHaveText("Wrong password.");

    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
    await expect(page).toHaveURL(/\/history$/);
    await expect(page.getByRole("heading", { level: 1, name: "History" })).toBeVisible();
    await page.waitForFunction(() => (window as unknown as { __keywatchHydrated?: boolean }).__keywatchHydrated === true);
    await expect(page.getByText("Signed in as admin")).toBeVisible();
    await expect(page.getByTestId("no-password-banner")).toHaveCount(0);
    const cookies = await page.context().cookies();
    const session = cookies.find((cookie) => cookie.name === "keywatch_session");
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe("Strict");

    await page.getByRole("link", { name: "Audit log" }).click();
    const newest = page.getByRole("table", { name: "Audit log" }).locator("tbody tr").first();
    await expect(newest).toContainText("auth.login");
    await expect(newest).toContainText("admin");

    await page.getByRole("button", { name: "Log out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto("/");
    await expect(page).toHaveURL(/\/login\?next=\/$/);
    expect(violations).toEqual([]);
  });
});
