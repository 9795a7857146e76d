// The setup wizard on the sandbox: validation beside each field before
// anything is sent, then the whole lab deployed from the section pages
// (progress advancing, events arriving without a reload, outputs), a
// re-deploy with a changed parameter as an update, teardown, and the AWS CLI
// confirming nothing is left.
import { execFileSync } from "node:child_process";
import { expect, test, type Page } from "@playwright/test";
import { hydrated, tearDownLab } from "../lab";

// A prefix of its own, so the lab this test builds is only its own.
const PREFIX = "wizard-e2e";

/** Unfolds the section's advanced settings (those with the lab's defaults). */
async function openAdvanced(page: Page): Promise<void> {
  const advanced = page.locator("details.advanced");
  if ((await advanced.count()) > 0 && !(await advanced.evaluate((element) => (element as HTMLDetailsElement).open))) {
    await advanced.locator("summary").click();
  }
}

/** Previews and deploys a section, watching progress and events arrive. */
async function deploySection(
  page: Page,
  slug: string,
  parameters: Record<string, string>,
  update: boolean,
): Promise<void> {
  await page.goto(`/lab/${slug}`);
  await hydrated(page);
  await page.getByLabel("Prefix", { exact: true }).fill(PREFIX);
  if (Object.keys(parameters).length > 0) await openAdvanced(page);
  for (const [key, value] of Object.entries(parameters)) {
    const field = page.getByLabel(key, { exact: true });
    if ((await field.evaluate((element) => element.tagName)) === "SELECT") {
      await field.selectOption(value);
    } else {
      await field.fill(value);
    }
  }
  await page.getByRole("button", { name: "Preview changes" }).click();
  const preview = page.getByRole("region", { name: "Preview" });
  await expect(preview.getByTestId("preview-summary")).toContainText(
    update ? "Updating the existing stack" : "Creating the stack adds",
    { timeout: 60_000 },
  );
  const changes = preview.getByRole("table", { name: "Changes" }).locator("tbody tr");
  await expect(changes.first()).toBeVisible();
  const planned = await changes.count();
  await preview.getByRole("button", { name: update ? "Deploy the update" : "Deploy", exact: true }).click();

  // Progress is pushed to the page: the status moves without a reload.
  const status = page.getByTestId("stack-status");
  await expect(status).toHaveText(/_IN_PROGRESS$/, { timeout: 15_000 });
  const progress = page.getByTestId("progress-text");
  if (!update) {
    // A creation counts its resources up one by one, out of what the change
    // set planned: the bar passes through values between 0% and 100%
    // (issue 17, A: it read 100% all the way).
    // The total is what the preview listed from the start (it grew with the
    // resources done before).
    const first = await progress.textContent();
    expect(first).toMatch(new RegExp(`^\\d+ of ${planned} resources complete`));
    await expect(progress).not.toHaveText(first ?? "", { timeout: 60_000 });
    await expect(progress).toHaveText(new RegExp(`^\\d+ of ${planned} resources complete \\((?:[1-9]|[1-9]\\d)%\\)$`), {
      timeout: 60_000,
    });
  }
  await expect(page.getByRole("table", { name: "Stack events" }).locator("tbody tr").first()).toBeVisible();
  await expect(status).toHaveText(update ? "UPDATE_COMPLETE" : "CREATE_COMPLETE", { timeout: 240_000 });
  await expect(progress).toHaveText(/^(\d+) of \1 resources complete/);
  if (!update) await expect(progress).toHaveText(`${planned} of ${planned} resources complete (100%)`);
  await expect(page.getByRole("table", { name: "Outputs" })).toBeVisible();
}

test.describe("form validation", () => {
  test("an empty prefix and invalid characters are refused beside the field, and nothing is sent", async ({ page }) => {
    await page.goto("/lab/base-network");
    await hydrated(page);
    const prefix = page.getByLabel("Prefix", { exact: true });
    await prefix.fill("");
    await expect(page.getByText("a prefix is required")).toBeVisible();
    await prefix.fill("Team-A");
    await expect(page.getByText("start with a lower-case letter")).toBeVisible();
    await prefix.fill("team_a");
    await expect(page.getByText("use only lower-case letters, digits and single hyphens")).toBeVisible();
    await page.getByRole("button", { name: "Preview changes" }).click();
    await expect(page.getByRole("region", { name: "Preview" })).toHaveCount(0);
  });

  test("an email that is not one is refused beside the field", async ({ page }) => {
    await page.goto("/lab/logging");
    await hydrated(page);
    const email = page.getByLabel("EmailAddress", { exact: true });
    await email.fill("not-an-email");
    await expect(page.getByText("must be empty or an email address")).toBeVisible();
    await email.fill("ops@example.com");
    await expect(page.getByText("must be empty or an email address")).toHaveCount(0);
    // Issue 17, J: at most 254 characters (RFC 5321), and a long value does
    // not widen the page.
    await email.fill(`${"a".repeat(4_988)}@example.com`);
    await expect(page.locator("#param-EmailAddress-error")).toContainText("an email address of at most 254 characters");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
      page.viewportSize()?.width ?? 0,
    );
  });

  // Issue 17, B: PutMetricAlarm's rule between fields, checked in the page
  // (as on the Alarms page) before anything is sent, instead of a rollback.
  test("DatapointsToAlarm above EvaluationPeriods is refused beside the field before any request", async ({ page }) => {
    await page.goto("/lab/logging");
    await hydrated(page);
    const requests: string[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST") requests.push(request.url());
    });
    // A newcomer sees only the e-mail; the alarm's settings are folded away.
    await expect(page.getByLabel("EmailAddress", { exact: true })).toBeVisible();
    await expect(page.getByLabel("AlarmEvaluationPeriods", { exact: true })).toBeHidden();
    await openAdvanced(page);
    await page.getByLabel("AlarmEvaluationPeriods", { exact: true }).fill("1");
    await page.getByLabel("AlarmDatapointsToAlarm", { exact: true }).fill("5");
    const refusal = page.locator("#param-AlarmDatapointsToAlarm-error");
    await expect(refusal).toContainText("EvaluationPeriods");
    await page.getByRole("button", { name: "Preview changes" }).click();
    await expect(page.getByRole("region", { name: "Preview" })).toHaveCount(0);
    expect(requests).toEqual([]);
    await page.getByLabel("AlarmDatapointsToAlarm", { exact: true }).fill("1");
    await expect(refusal).toBeEmpty();
  });
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("section pages render what they create before hydration", async ({ page }) => {
    await page.goto("/lab/application");
    await expect(page.getByRole("heading", { level: 1, name: "2. Application" })).toBeVisible();
    await expect(page.getByRole("table", { name: "Resources" })).toContainText("AWS::ECS::Service");
    await expect(page.getByRole("region", { name: "Prerequisites" })).toContainText("Base network");
  });
});

test("deploys the lab from the wizard, updates it, tears it down and leaves nothing", async ({ page, browser }) => {
  test.setTimeout(900_000);

  // A second browser on the same page sees the same deployment, unprompted.
  const observerContext = await browser.newContext();
  const observer = await observerContext.newPage();
  await observer.goto(`/lab/base-network?prefix=${PREFIX}`);
  await hydrated(observer);

  await deploySection(page, "base-network", {}, false);
  // A guided path: the next section is offered once this one is ready.
  await expect(page.getByTestId("next-step")).toHaveText("Next: 2. Application");
  await expect(observer.getByTestId("stack-status")).toHaveText("CREATE_COMPLETE", { timeout: 30_000 });
  await expect(observer.getByRole("table", { name: "Stack events" })).toContainText(`${PREFIX}-base`);
  await observerContext.close();
  await expect(page.getByRole("table", { name: "Outputs" })).toContainText("Pattern1AppContainerRepositoryUri");

  await page.goto("/lab/application");
  await expect(page.getByRole("region", { name: "Application image" })).toContainText("no push is needed");
  await expect(page.getByRole("region", { name: "Application image" })).toContainText(`${PREFIX}-base-simple-app`);
  await deploySection(page, "application", {}, false);

  await deploySection(page, "logging", {}, false);
  await expect(page.getByRole("table", { name: "Outputs" })).toContainText("OutputPattern1TrailBucket");

  // Deploying again with a changed parameter is an update through a change set.
  await deploySection(page, "logging", { AlarmEvaluationPeriods: "2" }, true);

  await page.goto("/lab");
  const stacks = page.getByRole("table", { name: "Lab stacks" });
  await expect(stacks).toContainText(`${PREFIX}-base`);
  await expect(stacks.getByTestId("stack-status")).toHaveText(["CREATE_COMPLETE", "CREATE_COMPLETE", "UPDATE_COMPLETE"]);

  await page.goto("/lab/teardown");
  await hydrated(page);
  // Refused until the prefix is typed.
  await expect(page.getByRole("button", { name: "Tear down the lab" })).toBeDisabled();
  await tearDownLab(page, PREFIX);
  const teardown = page.getByRole("region", { name: "Teardown progress" });
  await expect(teardown).not.toContainText("failed");
  // The database's Snapshot deletion policy leaves a final snapshot, listed with how to remove it.
  await expect(teardown.getByRole("table", { name: "Leftovers" })).toContainText(`${PREFIX}-app-db-final`);
  // It bills on AWS until deleted: the page deletes it.
  await teardown.getByRole("button", { name: `Delete ${PREFIX}-app-db-final` }).click();
  // Nothing is deleted until the second, explicit confirmation.
  await expect(teardown.getByText(`${PREFIX}-app-db-final cannot be restored once deleted.`)).toBeVisible();
  await expect(teardown.getByTestId("leftovers")).toHaveCount(0);
  await teardown.getByRole("button", { name: `Yes, delete ${PREFIX}-app-db-final` }).click();
  await expect(teardown.getByTestId("leftovers")).toHaveText("Nothing was left behind.");

  // The AWS CLI, pointed at the console's sandbox, finds nothing left.
  await page.goto("/");
  const endpoint = (await page.locator("dt:text-is('Sandbox endpoint') + dd").textContent())?.trim() ?? "";
  expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "sandbox",
    AWS_DEFAULT_REGION: "ap-southeast-2",
  };
  const aws = (...args: string[]) =>
    JSON.parse(execFileSync("aws", ["--endpoint-url", endpoint, "--output", "json", ...args], { env }).toString() || "{}");
  const live = (aws("cloudformation", "list-stacks").StackSummaries ?? []).filter(
    (stack: { StackName: string; StackStatus: string }) =>
      stack.StackName.startsWith(PREFIX) && stack.StackStatus !== "DELETE_COMPLETE",
  );
  expect(live).toEqual([]);
  const buckets = (aws("s3api", "list-buckets").Buckets ?? []).filter((bucket: { Name: string }) =>
    bucket.Name.startsWith(PREFIX),
  );
  expect(buckets).toEqual([]);
  const repositories = (aws("ecr", "describe-repositories").repositories ?? []).filter(
    (repository: { repositoryName: string }) => repository.repositoryName.startsWith(PREFIX),
  );
  expect(repositories).toEqual([]);
  const snapshots = (aws("rds", "describe-db-snapshots").DBSnapshots ?? []).filter(
    (snapshot: { DBSnapshotIdentifier: string }) => snapshot.DBSnapshotIdentifier.startsWith(PREFIX),
  );
  expect(snapshots).toEqual([]);
});
