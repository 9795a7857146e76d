// Issue 21 in the browser: the lab alarm's Response panel set to contain the
// task role on approval; the lab's attack fires the alarm and a response
// waits for approval; approving it contains the role, so the application's
// next decrypt with the right key fails; reverting it lets the decrypt
// through again. The spec deploys its own lab under its own prefix and tears
// it down at the end, so it depends on no other spec.
import { expect, test, type Page } from "@playwright/test";
import { call, earlyInAlarmPeriod, hydrated, tearDownLab } from "../lab";

const PREFIX = "responses-e2e";
const ALARM = `${PREFIX}-logging-Pattern1ApplicationKMSSecurityAlarm`;

/** Previews and deploys a section from its wizard page and waits for CREATE_COMPLETE. */
async function deploySection(page: Page, slug: string): Promise<void> {
  await page.goto(`/lab/${slug}?prefix=${PREFIX}`);
  await hydrated(page);
  await page.getByLabel("Prefix", { exact: true }).fill(PREFIX);
  await page.getByRole("button", { name: "Preview changes" }).click();
  const preview = page.getByRole("region", { name: "Preview" });
  await expect(preview.getByTestId("preview-summary")).toContainText("Creating the stack adds", { timeout: 60_000 });
  await preview.getByRole("button", { name: "Deploy", exact: true }).click();
  await expect(page.getByTestId("stack-status")).toHaveText("CREATE_COMPLETE", { timeout: 240_000 });
}

test("an approved containment refuses the application's decrypts until it is reverted", async ({ page }) => {
  test.setTimeout(900_000);
  await deploySection(page, "base-network");
  await deploySection(page, "application");
  const endpoint =
    (await page.getByRole("table", { name: "Outputs" }).locator("tr", { hasText: "OutputPattern1ApplicationEndpoint" }).locator("td").nth(1).textContent())?.trim() ?? "";
  expect(endpoint).toMatch(/^[\w.-]+:\d+$/);
  await deploySection(page, "logging");

  // The alarm's Response panel: the form comes filled with the lab's task role and key.
  await page.goto(`/alarms/edit?name=${ALARM}`);
  await hydrated(page);
  const panel = page.getByRole("region", { name: "Response" });
  const contain = panel.getByRole("form", { name: "Contain the role" });
  await expect(contain.getByLabel("Role ARN")).toHaveValue(new RegExp(`:role/${PREFIX}-app-`), { timeout: 30_000 });
  await expect(contain.getByLabel("Key ARN")).toHaveValue(/^arn:aws:kms:ap-southeast-2:111122223333:key\//);
  await expect(contain).toContainText("explicit deny of every KMS operation on the key");
  await contain.getByLabel("When the alarm fires").selectOption("approval");
  await contain.getByRole("button", { name: "Save" }).click();
  await expect(contain.getByLabel("When the alarm fires")).toHaveValue("approval");

  // The lab's section 4: encrypt, then the attack.
  await expect
    .poll(async () => (await call(endpoint, "GET", "/", "").catch(() => ({ status: 0 }))).status, { timeout: 60_000 })
    .toBe(200);
  const encrypted = await call(endpoint, "POST", "/encrypt", '{"Name":"Bob","Text":"Run your own race"}');
  expect(encrypted.status).toBe(200);
  const decrypt = JSON.stringify({ Name: "Bob", Key: JSON.parse(encrypted.body).Key });
  await earlyInAlarmPeriod(page);
  for (let i = 0; i < 3; i++) {
    await call(endpoint, "GET", "/decrypt", '{"Name":"Bob","Key":"some-random-false-key"}');
  }

  // A response waits for approval; nothing is contained yet.
  const responses = panel.getByRole("table", { name: "Responses" });
  const row = responses.locator("tbody tr").first();
  await expect(row.getByTestId("response-status")).toHaveText("awaiting-approval", { timeout: 120_000 });
  expect((await call(endpoint, "GET", "/decrypt", decrypt)).status).toBe(200);

  await row.getByRole("button", { name: "Approve" }).click();
  await expect(row.getByTestId("response-status")).toHaveText("done", { timeout: 30_000 });
  await expect(row).toContainText(/\d+\.\d s/);
  const contained = await call(endpoint, "GET", "/decrypt", decrypt);
  expect(contained.status).toBe(400);

  await row.getByRole("button", { name: "Revert" }).click();
  await expect(row.getByTestId("response-status")).toHaveText("reverted", { timeout: 30_000 });
  const again = await call(endpoint, "GET", "/decrypt", decrypt);
  expect(again).toEqual({ status: 200, body: '{"Text":"Run your own race"}' });

  // Audited.
  await page.goto("/audit");
  const audit = page.getByRole("table", { name: "Audit log" });
  for (const action of ["response.playbook", "response.decide", "response.run", "response.revert"]) {
    await expect(audit.locator("tbody tr").filter({ hasText: action }).first()).toBeVisible();
  }

  await tearDownLab(page, PREFIX);
});
