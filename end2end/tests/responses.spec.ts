// Issue 21 in the browser: the lab alarm's Response panel set to contain the
// task role on approval; the lab's attack fires the alarm and a response
// waits for approval, listed on the Responses page; approving it there contains the role, so the application's
// next decrypt with the right key fails; reverting it lets the decrypt
// through again. The spec deploys its own lab under its own prefix and tears
// it down at the end, so it depends on no other spec.
import { expect, test } from "@playwright/test";
import { call, deployLab, earlyInAlarmPeriod, hydrated, tearDownLab } from "../lab";

const PREFIX = "responses-e2e";
const ALARM = `${PREFIX}-logging-Pattern1ApplicationKMSSecurityAlarm`;

test("an approved containment refuses the application's decrypts until it is reverted", async ({ page }) => {
  test.setTimeout(900_000);
  const endpoint = await deployLab(page, PREFIX);

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

  // The Responses page lists it with its alarm; approved from there.
  await page.goto("/responses");
  await hydrated(page);
  await expect(page.getByTestId("awaiting-approval")).toContainText(/\d+ responses? waits? for approval/);
  const listed = page
    .getByRole("table", { name: "Responses" })
    .locator("tbody tr")
    .filter({ has: page.getByRole("link", { name: ALARM, exact: true }) })
    .first();
  await expect(listed.getByTestId("response-status")).toHaveText("awaiting-approval");
  await listed.getByRole("button", { name: "Approve" }).click();
  await expect(listed.getByTestId("response-status")).toHaveText("done", { timeout: 30_000 });
  await listed.getByRole("link", { name: ALARM, exact: true }).click();
  await expect(page).toHaveURL(/\/alarms\/edit\?name=/);
  await hydrated(page);
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
