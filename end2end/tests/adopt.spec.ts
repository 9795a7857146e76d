// A lab deployed by hand (issue 19, item 6): the lab's original templates
// created with the AWS CLI under names of the user's own, recognised on the
// lab overview by what the stacks contain, adopted (audited), its alarm
// managed and its threshold changed through its own stack, and torn down
// in the right order with the retained trail bucket the lab forgets.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { hydrated, tearDownLab } from "../lab";

const ORIGINALS = path.resolve(__dirname, "../../../shared/lab-original");
// Names no Keywatch prefix would give: only their contents say they are the lab.
const BASE = "handmade-net";
const APP = "handmade-application";
const LOGGING = "handmade-monitoring";
// The common start of the three names, which the adopted lab is filed under.
const PREFIX = "handmade";
const ALARM = "Pattern1ApplicationKMSSecurityAlarm";

type Aws = (...args: string[]) => Record<string, unknown>;

async function sandboxCli(page: Page): Promise<Aws> {
  await page.goto("/");
  const endpoint = (await page.locator("dt:text-is('Sandbox endpoint') + dd").textContent())?.trim() ?? "";
  expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "sandbox",
    AWS_DEFAULT_REGION: "ap-southeast-2",
  };
  return (...args: string[]) =>
    JSON.parse(execFileSync("aws", ["--endpoint-url", endpoint, "--output", "json", ...args], { env }).toString() || "{}");
}

async function created(aws: Aws, stack: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 240; i++) {
    const described = (aws("cloudformation", "describe-stacks", "--stack-name", stack).Stacks as Record<string, unknown>[])[0];
    const status = String(described.StackStatus);
    if (!status.endsWith("_IN_PROGRESS")) {
      expect(status, `${stack}`).toBe("CREATE_COMPLETE");
      return described;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${stack} did not finish`);
}

function output(stack: Record<string, unknown>, key: string): string {
  const found = (stack.Outputs as { OutputKey: string; OutputValue: string }[]).find((o) => o.OutputKey === key);
  return found?.OutputValue ?? "";
}

test("a lab deployed by hand with the AWS CLI is recognised, adopted, managed and torn down", async ({ page }) => {
  test.skip(!fs.existsSync(path.join(ORIGINALS, "pattern1-app.yml")), `the lab's original templates are not at ${ORIGINALS}`);
  test.setTimeout(600_000);
  const aws = await sandboxCli(page);

  // The lab's commands, with the NAME: typo corrected in a copy (the file itself is never edited).
  aws("cloudformation", "create-stack", "--stack-name", BASE, "--template-body", `file://${ORIGINALS}/pattern1-base.yml`);
  const base = await created(aws, BASE);
  const repository = output(base, "OutputPattern1AppContainerRepository");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "keywatch-adopt-"));
  const app = path.join(work, "pattern1-app.yml");
  fs.writeFileSync(app, fs.readFileSync(path.join(ORIGINALS, "pattern1-app.yml"), "utf8").replace("- NAME: DBSecret", "- Name: DBSecret"));
  try {
    aws("iam", "create-service-linked-role", "--aws-service-name", "ecs.amazonaws.com");
  } catch {
    // Another spec's lab created it already.
  }
  aws("cloudformation", "create-stack", "--stack-name", APP, "--template-body", `file://${app}`,
    "--parameters", `ParameterKey=BaselineVpcStack,ParameterValue=${BASE}`, `ParameterKey=ECRImageURI,ParameterValue=${repository}:latest`,
    "--capabilities", "CAPABILITY_NAMED_IAM");
  const application = await created(aws, APP);
  aws("cloudformation", "create-stack", "--stack-name", LOGGING, "--template-body", `file://${ORIGINALS}/pattern1-logging.yml`,
    "--parameters", `ParameterKey=AppECSTaskRoleArn,ParameterValue=${output(application, "OutputPattern1ECSTaskRole")}`,
    "ParameterKey=EmailAddress,ParameterValue=secops@example.com", "--capabilities", "CAPABILITY_NAMED_IAM");
  await created(aws, LOGGING);
  const bucket = String(
    (aws("cloudformation", "describe-stack-resource", "--stack-name", LOGGING, "--logical-resource-id", "Pattern1CloudTrailS3Bucket")
      .StackResourceDetail as Record<string, unknown>).PhysicalResourceId,
  );

  // The overview finds the three stacks as one lab, by their contents and wiring.
  await page.goto("/lab");
  await hydrated(page);
  const found = page.getByRole("table", { name: "Labs found in this account" });
  const row = found.locator("tr", { hasText: LOGGING });
  await expect(row).toContainText(BASE);
  await expect(row).toContainText(APP);
  await row.getByRole("button", { name: `Adopt ${LOGGING}` }).click();

  // Adopted: the lab is the console's current one, under its own stack names.
  await expect(page.getByTestId("lab-prefix")).toHaveText(PREFIX);
  await expect(page.getByTestId("lab-adopted")).toBeVisible();
  const stacks = page.getByRole("table", { name: "Lab stacks" });
  for (const name of [BASE, APP, LOGGING]) {
    await expect(stacks.locator("tr", { hasText: name })).toContainText("CREATE_COMPLETE");
  }
  await expect(found.locator("tr", { hasText: LOGGING })).toHaveCount(0);

  // The adoption is in the audit log.
  await page.goto("/audit");
  await expect(page.getByRole("table").first()).toContainText("lab.adopt");

  // Its alarm is managed: listed on the Alarms page, and its threshold
  // changed through its own stack (a change set over its template).
  await page.goto("/alarms");
  const alarms = page.getByRole("table", { name: "Alarms" });
  await expect(alarms).toContainText(ALARM);
  await alarms.getByRole("link", { name: ALARM, exact: true }).click();
  await hydrated(page);
  await expect(page.getByTestId("change-path")).toContainText(`Owned by the stack ${LOGGING}`);
  await expect(page.getByTestId("change-path")).toContainText("the stack's own template through a change set");
  // Other specs may have called PutMetricAlarm on the same sandbox.
  const putMetricAlarms = () =>
    (aws("cloudtrail", "lookup-events", "--lookup-attributes", "AttributeKey=EventName,AttributeValue=PutMetricAlarm")
      .Events as unknown[]).length;
  const putsBefore = putMetricAlarms();
  const threshold = page.getByLabel("Threshold", { exact: true });
  await threshold.fill("4");
  await page.getByRole("button", { name: "Apply" }).click();
  const changes = page.getByRole("table", { name: "Threshold changes" });
  await expect(changes).toContainText("Threshold: 1 → 4");
  await expect(changes).toContainText(`change set on ${LOGGING}`);
  await expect(changes).toContainText("succeeded", { timeout: 120_000 });
  // No drift: the stack's template holds the new value, and the alarm agrees.
  // The CLI hands a JSON template back parsed; a YAML one as text.
  const body = aws("cloudformation", "get-template", "--stack-name", LOGGING).TemplateBody;
  const template = (typeof body === "string" ? JSON.parse(body) : body) as {
    Resources: Record<string, { Properties: { Threshold: number } }>;
  };
  expect(template.Resources.Pattern1CloudWatchLogGroupMetricFilterAlarm.Properties.Threshold).toBe(4);
  const alarm = (aws("cloudwatch", "describe-alarms", "--alarm-names", ALARM).MetricAlarms as { Threshold: number }[])[0];
  expect(alarm.Threshold).toBe(4);
  // Through CloudFormation only: CloudTrail has no PutMetricAlarm call.
  expect(putMetricAlarms()).toBe(putsBefore);

  // Teardown: logging, then the application, then the base, and the
  // retained trail bucket the lab's own teardown forgets.
  await tearDownLab(page, PREFIX);
  const progress = page.getByRole("region", { name: "Teardown progress" });
  for (const name of [LOGGING, APP, BASE]) {
    await expect(progress).toContainText(`Delete stack ${name}`);
  }
  const live = (aws("cloudformation", "list-stacks").StackSummaries as { StackName: string; StackStatus: string }[]).filter(
    (stack) => [BASE, APP, LOGGING].includes(stack.StackName) && stack.StackStatus !== "DELETE_COMPLETE",
  );
  expect(live).toEqual([]);
  const buckets = ((aws("s3api", "list-buckets").Buckets ?? []) as { Name: string }[]).map((b) => b.Name);
  expect(buckets).not.toContain(bucket);
  fs.rmSync(work, { recursive: true, force: true });
});
