// The Alarms page on the sandbox: with real traffic recorded (wrong-key
// decrypts at the deployed application, recorded by CloudTrail as the task
// role, counted by the metric filter), change the lab alarm's threshold in
// the form, see the preview change, apply it, and find the alarm changed
// through the logging stack's parameter (stack and alarm agree) and the
// change listed under the alarm. Invalid values are refused beside their
// field and nothing is sent. The spec deploys its own lab under its own
// prefix and tears it down at the end, so it depends on no other spec.
import { execFileSync } from "node:child_process";
import { expect, test } from "@playwright/test";
import { call, deployLab, earlyInAlarmPeriod, hydrated, tearDownLab } from "../lab";

const PREFIX = "thresholds-e2e";
const ALARM = `${PREFIX}-logging-Pattern1ApplicationKMSSecurityAlarm`;

test("a threshold changed in the form is previewed, applied through the stack and recorded", async ({ page }) => {
  test.setTimeout(900_000);

  const endpoint = await deployLab(page, PREFIX);

  // The lab's section 4: encrypt, then decrypt with a false key three times.
  await expect
    .poll(async () => (await call(endpoint, "GET", "/", "").catch(() => ({ status: 0 }))).status, { timeout: 60_000 })
    .toBe(200);
  const encrypted = await call(endpoint, "POST", "/encrypt", '{"Name":"Bob","Text":"Run your own race"}');
  expect(encrypted.status).toBe(200);
  await earlyInAlarmPeriod(page);
  for (let i = 0; i < 3; i++) {
    await call(endpoint, "GET", "/decrypt", '{"Name":"Bob","Key":"some-random-false-key"}');
  }

  // The alarm is listed with its condition in words, and fires on the recorded failures.
  await page.goto("/alarms");
  const alarms = page.getByRole("table", { name: "Alarms" });
  await expect(alarms).toContainText(ALARM);
  await expect(alarms.locator("tr", { hasText: ALARM })).toContainText(
    "Sum of KMSSecurityError > 1 for 1 of 1 periods of 10 s; missing data: ignore",
  );
  await alarms.getByRole("link", { name: ALARM }).click();
  await hydrated(page);
  await expect(page.getByTestId("alarm-state")).toHaveText("ALARM", { timeout: 60_000 });
  await expect(page.getByTestId("change-path")).toContainText(`${PREFIX}-logging`);

  // Reloaded now that the failures are in the metric: both settings (still
  // the same) fired alike. The lab's metric has no dimensions, so it also
  // holds the failures other specs' labs made (recovery.spec and
  // testing.spec attack under the same metric): how many alarms the 15
  // days replay to depends on them, but never zero, and both sides agree.
  await page.reload();
  await hydrated(page);
  const current = page.getByTestId("outcome-current");
  const proposed = page.getByTestId("outcome-proposed");
  await expect(current.getByTestId("alarm-count")).toHaveText(/^[1-9]\d*$/, { timeout: 30_000 });
  const fired = (await current.getByTestId("alarm-count").textContent())?.trim() ?? "";
  await expect(proposed.getByTestId("alarm-count")).toHaveText(fired);
  await expect(page.getByRole("img", { name: "Metric with both thresholds" })).toBeVisible();

  // Invalid values are refused beside their field; the preview waits for a valid setting.
  const period = page.getByLabel("Period (seconds)");
  await period.fill("15");
  await expect(page.locator("#field-Period-error")).toHaveText("Period must be 10, 20, 30 or a multiple of 60 seconds, not 15");
  await expect(page.getByText("Fix the settings above to see a preview.")).toBeVisible();
  await page.getByRole("button", { name: "Apply" }).click();
  await period.fill("10");
  await page.getByLabel("Datapoints to alarm (M)").fill("2");
  await expect(page.locator("#field-DatapointsToAlarm-error")).toHaveText(
    "DatapointsToAlarm must be less than or equal to EvaluationPeriods",
  );
  await page.getByLabel("Datapoints to alarm (M)").fill("1");
  const threshold = page.getByLabel("Threshold", { exact: true });
  await threshold.fill("abc");
  await expect(page.locator("#field-Threshold-error")).toContainText("Threshold must be a finite number");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("region", { name: "Changes" })).toContainText("No changes made from Keywatch yet.");

  // A threshold of 5: three failures in one period no longer fire.
  await threshold.fill("5");
  await expect(proposed).toContainText("Sum of KMSSecurityError > 5 for 1 of 1 periods of 10 s; missing data: ignore");
  // No period of any lab's attacks held more than 5 failures.
  await expect(proposed.getByTestId("alarm-count")).toHaveText("0");
  await expect(current.getByTestId("alarm-count")).toHaveText(fired);

  await page.getByRole("button", { name: "Apply" }).click();
  const changes = page.getByRole("table", { name: "Threshold changes" });
  await expect(changes).toContainText("Threshold: 1 → 5");
  await expect(changes).toContainText(`change set on ${PREFIX}-logging`);
  await expect(changes).toContainText("succeeded", { timeout: 120_000 });
  // The status under Apply follows the change to its end too (issue 17, G).
  await expect(page.getByTestId("apply-status")).toContainText(": succeeded");
  await expect(page.getByTestId("alarm-condition")).toHaveText(
    "Sum of KMSSecurityError > 5 for 1 of 1 periods of 10 s; missing data: ignore",
  );

  // Through the stack: its parameter holds the new value and the alarm agrees (no drift).
  await page.goto(`/lab/logging?prefix=${PREFIX}`);
  await expect(page.getByLabel("AlarmThreshold", { exact: true })).toHaveValue("5");
  await page.goto("/");
  const sandbox = (await page.locator("dt:text-is('Sandbox endpoint') + dd").textContent())?.trim() ?? "";
  const env = { ...process.env, AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "sandbox", AWS_DEFAULT_REGION: "ap-southeast-2" };
  const aws = (...args: string[]) =>
    JSON.parse(execFileSync("aws", ["--endpoint-url", sandbox, "--output", "json", ...args], { env }).toString() || "{}");
  const stack = aws("cloudformation", "describe-stacks", "--stack-name", `${PREFIX}-logging`).Stacks[0];
  expect(stack.StackStatus).toBe("UPDATE_COMPLETE");
  expect(stack.Parameters.find((p: { ParameterKey: string }) => p.ParameterKey === "AlarmThreshold").ParameterValue).toBe("5");
  const alarm = aws("cloudwatch", "describe-alarms", "--alarm-names", ALARM).MetricAlarms[0];
  expect(alarm.Threshold).toBe(5);

  // The pattern tester reads the trail's log group (FilterLogEvents): the failed decrypts match the lab's pattern.
  await page.goto("/alarms/pattern-tester");
  await hydrated(page);
  await page.getByRole("button", { name: "Use recent KMS events from the trail's log group" }).click();
  await expect(page.getByTestId("match-count")).toHaveText(/^[1-9]\d* of \d+ events match$/);

  // Leave nothing behind for the specs after this one.
  await tearDownLab(page, PREFIX);
});

test("the pattern tester shows which events match and refuses invalid patterns with a message", async ({ page }) => {
  await page.goto("/alarms/pattern-tester");
  await hydrated(page);
  await page.getByLabel("Log events (one per line)").fill(
    [
      '{"eventSource":"kms.amazonaws.com","eventName":"Decrypt","errorCode":"InvalidCiphertextException"}',
      '{"eventSource":"kms.amazonaws.com","eventName":"Decrypt"}',
    ].join("\n"),
  );
  await expect(page.getByTestId("match-count")).toHaveText("1 of 2 events match");
  await page.getByLabel("Filter pattern").fill("{ $.eventName = ");
  await expect(page.locator("#pattern-error")).toHaveText(/\S/);
  await expect(page.getByRole("table", { name: "Pattern results" })).toHaveCount(0);
});
