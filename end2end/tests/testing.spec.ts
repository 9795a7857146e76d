// Lab section 4 end to end on the sandbox: the lab's three stacks deployed
// from the wizard's pages when they are missing (whatever the other specs
// left), the round trip through the application passing, attack parameters
// refused beside their fields, and the simulated attack driving the alarm
// to ALARM with the measured time-to-detect shown — in a second browser too.
import { expect, test, type Page } from "@playwright/test";
import { hydrated, tearDownLab } from "../lab";

// The lab's own prefix: the notification inbox subscribes to its topics.
const PREFIX = "pattern1";

/** Deploys a section from its page unless its stack is already complete; true when it deployed. */
async function ensureDeployed(page: Page, slug: string): Promise<boolean> {
  await page.goto(`/lab/${slug}?prefix=${PREFIX}`);
  await hydrated(page);
  const status = page.getByTestId("stack-status");
  if (/^(CREATE|UPDATE)_COMPLETE$/.test((await status.textContent())?.trim() ?? "")) return false;
  await page.getByLabel("Prefix", { exact: true }).fill(PREFIX);
  await page.getByRole("button", { name: "Preview changes" }).click();
  const preview = page.getByRole("region", { name: "Preview" });
  await preview.getByRole("button", { name: "Deploy", exact: true }).click({ timeout: 60_000 });
  await expect(status).toHaveText("CREATE_COMPLETE", { timeout: 90_000 });
  return true;
}

test("the round trip passes and a simulated attack fires the alarm with time-to-detect measured", async ({
  page,
  browser,
}) => {
  test.setTimeout(180_000);

  // What is missing depends on the specs before this one; deploy only that,
  // and tear down at the end what this test deployed, so the specs after it
  // find the console as this one found it.
  let deployedHere = false;
  await page.goto("/lab/testing");
  if ((await page.getByRole("region", { name: "Prerequisites" }).count()) > 0) {
    for (const slug of ["base-network", "application", "logging"]) {
      deployedHere = (await ensureDeployed(page, slug)) || deployedHere;
    }
    await page.goto("/lab/testing");
  }
  await expect(page.getByRole("heading", { level: 1, name: "4. Testing" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Prerequisites" })).toHaveCount(0);
  await expect(page.getByTestId("alarm-rule")).toHaveText("Sum > 1 over 10 s, 1 of 1 periods");
  await hydrated(page);

  // (a) Round trip: the requests and responses are shown, the text comes back.
  const roundTrip = page.getByRole("region", { name: "Round trip" });
  // Issue 17, J: text beyond what KMS Encrypt takes (4,096 bytes) is refused
  // beside the field, saying why, instead of the application's "Data
  // encryption failed"; nothing is echoed and the page keeps its size.
  const data = roundTrip.getByLabel("Data");
  const heightBefore = await page.evaluate(() => document.documentElement.scrollHeight);
  await data.fill("x".repeat(210_000));
  await roundTrip.getByRole("button", { name: "Run the round trip" }).click();
  await expect(roundTrip.locator("#rt-text-error")).toHaveText(
    "KMS encrypts at most 4096 bytes of text at once (this is 210000 bytes): shorten it",
  );
  await expect(roundTrip.getByTestId("round-trip-result")).toHaveCount(0);
  const size = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]);
  expect(size[0]).toBeLessThanOrEqual(page.viewportSize()?.width ?? 0);
  // One line of message more, not the text echoed.
  expect(size[1]).toBeLessThan(heightBefore + 200);
  await data.fill("Run your own race");
  await roundTrip.getByRole("button", { name: "Run the round trip" }).click();
  await expect(roundTrip.getByTestId("round-trip-result")).toHaveText(/^Passed/, { timeout: 20_000 });
  const encrypt = roundTrip.getByRole("group", { name: "Encrypt" });
  await expect(encrypt.getByTestId("request")).toContainText("POST http://127.0.0.1:");
  await expect(encrypt.getByTestId("request")).toContainText('{"Name":"Bob","Text":"Run your own race"}');
  await expect(encrypt.getByTestId("response-status")).toHaveText("200");
  await expect(encrypt.getByTestId("response-body")).toContainText("Data encrypted and stored");
  const decrypt = roundTrip.getByRole("group", { name: "Decrypt" });
  await expect(decrypt.getByTestId("request")).toContainText("GET http://127.0.0.1:");
  await expect(decrypt.getByTestId("request")).toContainText('{"Name":"Bob","Key":"');
  await expect(decrypt.getByTestId("response-status")).toHaveText("200");
  await expect(decrypt.getByTestId("response-body")).toHaveText('{"Text":"Run your own race"}');

  // (b) The defaults come from the alarm: more than 1 in 10 s -> 3 at 1 a second,
  // and 2 more for the calls whose records reach the metric after their
  // period's evaluation (the sandbox's 1 s delivery and its 250 ms loop).
  const attack = page.getByRole("region", { name: "Simulate an attack" });
  const count = attack.getByLabel("Decrypts (N)");
  const rate = attack.getByLabel("Per second (R)");
  await expect(count).toHaveValue("5");
  await expect(rate).toHaveValue("1");
  await count.fill("2.5");
  await expect(attack.getByText("enter a whole number")).toBeVisible();
  await rate.fill("50");
  await expect(attack.getByText("use a number from 1 to 20")).toBeVisible();
  const runs = page.getByRole("region", { name: "Past runs" });
  const runsBefore = await runs.locator("tbody tr").count();
  await attack.getByRole("button", { name: "Start the attack" }).click();
  // Nothing was sent: no run appears, even after the next polls.
  await page.waitForTimeout(1_500);
  await expect(runs.locator("tbody tr")).toHaveCount(runsBefore);
  await count.fill("5");
  await rate.fill("1");
  await expect(attack.getByRole("alert").filter({ hasText: /./ })).toHaveCount(0);

  // A second browser follows the same run without being told.
  const observerContext = await browser.newContext();
  const observer = await observerContext.newPage();
  await observer.goto("/lab/testing");
  await hydrated(observer);

  await attack.getByRole("button", { name: "Start the attack" }).click();
  await expect(attack.getByTestId("run-outcome")).toHaveText("Running");
  await expect(attack.getByRole("button", { name: "Stop" })).toBeVisible();
  await expect(attack.getByTestId("run-progress")).toContainText("5 of 5 sent", { timeout: 15_000 });
  await expect(attack.getByRole("table", { name: "Responses" }).locator("tbody tr")).toHaveCount(5);
  await expect(attack.getByRole("table", { name: "Responses" })).toContainText(
    "Data decryption failed, make sure you have the correct key",
  );

  // (c) and (d): the alarm reaches ALARM, the time to it is measured, the notification arrives.
  const live = page.getByRole("region", { name: "Live view" });
  await expect(live.getByTestId("alarm-state")).toHaveText("ALARM", { timeout: 60_000 });
  await expect(live.getByTestId("time-to-alarm")).toHaveText(/^\d+\.\d s$/);
  await expect(live.getByRole("img", { name: "Metric datapoints and threshold" }).locator("rect.chart-bar-breaching")).not.toHaveCount(0);
  await expect(live.getByTestId("notification")).toContainText('"NewStateValue": "ALARM"', { timeout: 60_000 });
  await expect(live.getByTestId("time-to-notification")).toHaveText(/^\d+\.\d s$/);
  await expect(attack.getByTestId("run-outcome")).toHaveText("Alarm reached", { timeout: 60_000 });

  await expect(observer.getByTestId("alarm-state")).toHaveText("ALARM");
  await expect(observer.getByTestId("time-to-alarm")).toHaveText(/^\d+\.\d s$/);
  await observerContext.close();

  // Recorded: the run is listed after a reload.
  await page.reload();
  await expect(page.getByRole("table", { name: "Attack runs" })).toContainText("Alarm reached");
  await expect(page.getByRole("table", { name: "Attack runs" })).toContainText("5 at 1/s");

  if (deployedHere) {
    await tearDownLab(page, PREFIX);
  }
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the Testing page renders what it tests, or what to deploy first, before hydration", async ({ page }) => {
    await page.goto("/lab/testing");
    await expect(page.getByRole("heading", { level: 1, name: "4. Testing" })).toBeVisible();
    const prerequisites = page.getByRole("region", { name: "Prerequisites" });
    if ((await prerequisites.count()) > 0) {
      await expect(prerequisites.getByRole("link", { name: "1. Base network" })).toHaveAttribute("href", "/lab/base-network");
    } else {
      await expect(page.getByTestId("alarm-rule")).toContainText("over 10 s");
      await expect(page.getByRole("region", { name: "Attack runs" }).or(page.getByRole("region", { name: "Past runs" }))).toBeVisible();
    }
  });
});
