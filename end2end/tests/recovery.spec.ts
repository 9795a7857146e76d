// Issue 17 in the browser, on the lab's own prefix (the notification inbox
// listens to its topics):
// - C: a logging section whose create rolls back is deleted from its page
//   (two clicks) and deployed again, while the base network and the
//   application stay as they were (and the base cannot be deleted under them);
// - E: the audit log shows that create as failed;
// - D: after the logging section is deleted and deployed again, the inbox
//   subscribes to the re-created alarm topic and the alarm's notification
//   reaches History;
// - I: "Use recent KMS events" loads the newest events, the failed decrypts
//   just made, not the older successful calls before them.
// The spec deploys what it needs and tears down what it deployed, so it
// depends on no other spec.
import { expect, test, type Page } from "@playwright/test";
import { call, earlyInAlarmPeriod, hydrated, sandboxEndpoint, tearDownLab } from "../lab";

const PREFIX = "pattern1";
const LOGGING = `${PREFIX}-logging`;
const TOPIC = `${LOGGING}-topic`;
// Under the lab's own stack name the alarm keeps the lab template's name.
const ALARM = "Pattern1ApplicationKMSSecurityAlarm";
const REGION = "ap-southeast-2";
const ACCOUNT = "111122223333";
// The logging stack's retained trail bucket (cloudformation/logging.yaml).
const TRAIL_BUCKET = `${LOGGING}-trail-${ACCOUNT}-${REGION}`;

/// A bucket made through the sandbox's S3 REST API, path style (the sandbox,
/// like AWS for these tests' purposes, routes by the SigV4 credential scope
/// and accepts any signature).
async function createBucket(endpoint: string, bucket: string): Promise<void> {
  const response = await fetch(`${endpoint}/${bucket}`, {
    method: "PUT",
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/${REGION}/s3/aws4_request, SignedHeaders=host, Signature=0`,
      "content-type": "application/xml",
    },
    body: `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${REGION}</LocationConstraint></CreateBucketConfiguration>`,
  });
  expect(response.ok, await response.text()).toBe(true);
}

/** Opens a section's page for the lab's prefix; returns its status badge. */
async function openSection(page: Page, slug: string) {
  await page.goto(`/lab/${slug}?prefix=${PREFIX}`);
  await hydrated(page);
  return page.getByTestId("stack-status");
}

/** Previews and deploys a section from its page; waits for the stack to reach `final`. */
async function deploy(page: Page, slug: string, final: string): Promise<void> {
  const status = await openSection(page, slug);
  await page.getByLabel("Prefix", { exact: true }).fill(PREFIX);
  await page.getByRole("button", { name: "Preview changes" }).click();
  const preview = page.getByRole("region", { name: "Preview" });
  await expect(preview.getByTestId("preview-summary")).toContainText("Creating the stack adds", { timeout: 60_000 });
  await preview.getByRole("button", { name: "Deploy", exact: true }).click();
  await expect(status).toHaveText(final, { timeout: 240_000 });
}

/** Deletes the section's stack from its page, with the two-click confirmation. */
async function deleteSection(page: Page, slug: string, stack: string): Promise<void> {
  const status = await openSection(page, slug);
  const panel = page.getByRole("region", { name: "Delete this section" });
  await panel.getByRole("button", { name: `Delete ${stack}` }).click();
  // Nothing is deleted until the second, explicit click.
  await expect(panel.getByRole("alert")).toHaveText(`${stack} and its resources will be deleted.`);
  await expect(status).not.toHaveText(/DELETE/);
  await panel.getByRole("button", { name: "Yes, delete it" }).click();
  await expect(status).toHaveText("Not deployed", { timeout: 120_000 });
}

/** The sections' stack statuses, as the overview lists them. */
async function statuses(page: Page): Promise<string[]> {
  await page.goto("/lab");
  return page.getByRole("table", { name: "Lab stacks" }).getByTestId("stack-status").allTextContents();
}

/** Waits until the inbox queue is a confirmed subscriber of the lab's alarm topic. */
async function inboxSubscribed(page: Page): Promise<void> {
  await page.goto("/subscribers");
  await hydrated(page);
  const subscribers = page.getByRole("table", { name: `Subscribers of ${TOPIC}` });
  await expect(subscribers.getByRole("row").filter({ hasText: `keywatch-inbox-${PREFIX}` })).toContainText("Confirmed", {
    timeout: 60_000,
  });
}

/**
 * The links of the lab alarm's changes into ALARM on History, newest first.
 * The alarm cell must be the lab's name exactly: a prefixed lab's alarm
 * (`pattern1-charts-logging-Pattern1ApplicationKMSSecurityAlarm`) contains it.
 */
async function alarmChanges(page: Page): Promise<string[]> {
  await page.goto("/history");
  await hydrated(page);
  return page
    .getByRole("table", { name: "Alarm history" })
    .getByRole("row")
    .filter({ has: page.getByRole("cell", { name: ALARM, exact: true }) })
    .getByRole("link", { name: "Alarm updated from INSUFFICIENT_DATA to ALARM" })
    .evaluateAll((links) => links.map((link) => link.getAttribute("href") ?? ""));
}

test("a failed section is deleted and redeployed alone, audited as failed, and the inbox follows its re-created topic", async ({
  page,
}) => {
  test.setTimeout(600_000);
  const sandbox = await sandboxEndpoint(page);
  expect(sandbox).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

  // The base network and the application, unless another run left them.
  let deployedHere = false;
  for (const slug of ["base-network", "application"]) {
    const status = await openSection(page, slug);
    if ((await status.textContent())?.trim() === "Not deployed") {
      await deploy(page, slug, "CREATE_COMPLETE");
      deployedHere = true;
    }
  }
  const status = await openSection(page, "logging");
  if ((await status.textContent())?.trim() !== "Not deployed") await deleteSection(page, "logging", LOGGING);

  // C and E. A bucket under the trail bucket's name (as an earlier lab's
  // retained bucket would be): the logging stack's create fails on it and
  // rolls back.
  await createBucket(sandbox, TRAIL_BUCKET);
  await deploy(page, "logging", "ROLLBACK_COMPLETE");
  await expect(page.getByTestId("failure-reason")).toContainText("TrailBucket");
  await expect(page.getByRole("region", { name: "Delete this section" })).toContainText(
    "This stack failed; CloudFormation cannot update it.",
  );

  // The audit log records the create's real outcome, once CloudFormation finished it.
  await expect(async () => {
    await page.goto("/audit");
    const deployments = page
      .getByRole("table", { name: "Audit log" })
      .locator("tbody tr")
      .filter({ hasText: "lab.deploy" })
      .filter({ hasText: LOGGING });
    // Columns: when, user, action, target, outcome, detail.
    await expect(deployments.first().getByRole("cell").nth(4)).toHaveText("failed", { timeout: 1_000 });
  }).toPass({ timeout: 60_000 });

  // The base cannot be deleted while the application uses it (CloudFormation
  // refuses to delete exports in use): refused, and nothing changes.
  await openSection(page, "base-network");
  const basePanel = page.getByRole("region", { name: "Delete this section" });
  await basePanel.getByRole("button", { name: `Delete ${PREFIX}-base` }).click();
  await basePanel.getByRole("button", { name: "Yes, delete it" }).click();
  await expect(basePanel.getByRole("alert").filter({ hasText: `${PREFIX}-app` })).toBeVisible();
  await expect(page.getByTestId("stack-status")).toHaveText("CREATE_COMPLETE");

  // Only the failed section goes (with the bucket in its way) ...
  await deleteSection(page, "logging", LOGGING);
  expect(await statuses(page)).toEqual(["CREATE_COMPLETE", "CREATE_COMPLETE", "Not deployed"]);
  // ... and it deploys again, the others untouched.
  await deploy(page, "logging", "CREATE_COMPLETE");
  expect(await statuses(page)).toEqual(["CREATE_COMPLETE", "CREATE_COMPLETE", "CREATE_COMPLETE"]);

  // D. The inbox subscribes to the topic; the section is deleted and deployed
  // again (the topic re-created under the same ARN, without its
  // subscriptions), and the inbox subscribes to it again.
  await inboxSubscribed(page);
  await deleteSection(page, "logging", LOGGING);
  await deploy(page, "logging", "CREATE_COMPLETE");
  await inboxSubscribed(page);

  // Traffic: many successful encrypts, then the lab's attack (wrong-key decrypts).
  await page.goto("/lab/testing");
  const endpoint = (await page.getByTestId("endpoint").textContent())?.trim() ?? "";
  expect(endpoint).toMatch(/^[\w.-]+:\d+$/);
  await expect
    .poll(async () => (await call(endpoint, "GET", "/", "").catch(() => ({ status: 0 }))).status, { timeout: 60_000 })
    .toBe(200);
  for (let i = 0; i < 60; i++) {
    const encrypted = await call(endpoint, "POST", "/encrypt", JSON.stringify({ Name: `user-${i}`, Text: "Run your own race" }));
    expect(encrypted.status).toBe(200);
  }
  // The alarm's changes so far (an earlier spec's lab may have used the
  // lab's alarm name too): the attack's change is a new one.
  const earlier = await alarmChanges(page);
  await earlyInAlarmPeriod(page);
  for (let i = 0; i < 3; i++) {
    const refused = await call(endpoint, "GET", "/decrypt", '{"Name":"user-0","Key":"some-random-false-key"}');
    expect(refused.status).toBe(400);
  }

  // The alarm fires and its notification, through the re-subscribed inbox, is linked to the change.
  await expect.poll(async () => (await alarmChanges(page)).length, { timeout: 90_000 }).toBeGreaterThan(earlier.length);
  const fresh = (await alarmChanges(page)).find((href) => !earlier.includes(href)) ?? "";
  const change = page.getByRole("table", { name: "Alarm history" }).getByRole("row").filter({
    has: page.locator(`a[href="${fresh}"]`),
  });
  await expect(change.getByRole("cell").last()).toHaveText("1", { timeout: 60_000 });

  // I. The newest 50 KMS events of the trail's log group are the last
  // encrypts and the three failed decrypts (the oldest 50 are all encrypts).
  await page.goto("/alarms/pattern-tester");
  await hydrated(page);
  await page.getByRole("button", { name: "Use recent KMS events from the trail's log group" }).click();
  await expect(page.getByTestId("match-count")).toHaveText("3 of 50 events match", { timeout: 30_000 });

  // Leave the console as this test found it.
  if (deployedHere) {
    await tearDownLab(page, PREFIX);
    const teardown = page.getByRole("region", { name: "Teardown progress" });
    await teardown.getByRole("button", { name: `Delete ${PREFIX}-app-db-final` }).click();
    await teardown.getByRole("button", { name: `Yes, delete ${PREFIX}-app-db-final` }).click();
    await expect(teardown.getByTestId("leftovers")).toHaveText("Nothing was left behind.");
  }
});
