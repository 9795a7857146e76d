// Issue 9 end to end on the sandbox: an alarm topic and alarm made through
// the sandbox's AWS APIs, an email subscriber added on the Subscribers page
// and confirmed from the outbox, the alarm fired, and the state change with
// its notification appearing on the History page without a reload.
import { expect, test } from "@playwright/test";
import { hydrated, sandboxEndpoint } from "../lab";

const REGION = "ap-southeast-2";
// Unique per run so reruns against a kept database do not collide.
const RUN = Date.now().toString(36);
const TOPIC = `pattern1-e2e-topic-${RUN}`;
const ALARM = `pattern1-e2e-alarm-${RUN}`;
const NAMESPACE = "Keywatch/EndToEnd";
const METRIC = `Breaches-${RUN}`;

/// SigV4-shaped credential scope: the sandbox routes by it and, like AWS for
/// these tests' purposes, accepts any signature.
function authorization(service: string): string {
  return `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

/// One SNS Query API call (https://docs.aws.amazon.com/sns/latest/api/CommonParameters.html).
async function sns(endpoint: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(`${endpoint}/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: authorization("sns") },
    body: new URLSearchParams({ Version: "2010-03-31", ...params }).toString(),
  });
  const text = await response.text();
  expect(response.ok, text).toBe(true);
  return text;
}

/// One CloudWatch call over AWS JSON 1.0 (https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html).
async function cloudwatch(endpoint: string, operation: string, input: object): Promise<void> {
  const response = await fetch(`${endpoint}/`, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": `GraniteServiceVersion20100801.${operation}`,
      authorization: authorization("monitoring"),
    },
    body: JSON.stringify(input),
  });
  expect(response.ok, await response.text()).toBe(true);
}

test("an email subscriber confirmed from the outbox, the alarm fired, the change and its notification on History", async ({
  page,
}) => {
  test.setTimeout(180_000);
  const endpoint = await sandboxEndpoint(page);
  expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

  // The lab's shape: a topic, and an alarm on a metric with the topic as its action.
  const created = await sns(endpoint, { Action: "CreateTopic", Name: TOPIC });
  const topicArn = /<TopicArn>([^<]+)<\/TopicArn>/.exec(created)?.[1] ?? "";
  expect(topicArn).toContain(TOPIC);
  await cloudwatch(endpoint, "PutMetricAlarm", {
    AlarmName: ALARM,
    Namespace: NAMESPACE,
    MetricName: METRIC,
    Statistic: "Sum",
    Period: 10,
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    Threshold: 1,
    ComparisonOperator: "GreaterThanThreshold",
    TreatMissingData: "ignore",
    AlarmActions: [topicArn],
  });

  // Subscribers: the topic appears with Keywatch's inbox queue subscribed.
  await page.goto("/subscribers");
  await hydrated(page);
  const topic = page.getByRole("region", { name: `Topic ${TOPIC}` });
  const subscribers = topic.getByRole("table", { name: `Subscribers of ${TOPIC}` });
  await expect(subscribers.getByRole("row").filter({ hasText: "keywatch-inbox-pattern1" })).toContainText("Confirmed", {
    timeout: 30_000,
  });

  // Validation happens before anything is sent.
  await topic.getByLabel("Protocol").selectOption("email");
  await topic.getByLabel("Endpoint").fill("oncall.example.com");
  await expect(topic.getByRole("alert")).toContainText("Enter an email address");
  await expect(topic.getByRole("button", { name: "Add subscriber" })).toBeDisabled();

  // Issue 17, J: an address is at most 254 characters (RFC 5321); a
  // 5,000-character one is refused, and the page does not grow wide.
  await topic.getByLabel("Endpoint").fill(`${"a".repeat(4_988)}@example.com`);
  await expect(topic.getByRole("alert")).toHaveText("An email address has at most 254 characters");
  await expect(topic.getByRole("button", { name: "Add subscriber" })).toBeDisabled();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(
    page.viewportSize()?.width ?? 0,
  );

  await topic.getByLabel("Endpoint").fill("oncall@example.com");
  await topic.getByRole("button", { name: "Add subscriber" }).click();
  const emailRow = subscribers.getByRole("row").filter({ hasText: "o***@example.com" });
  await expect(emailRow).toContainText("Pending confirmation");

  // The outbox holds the confirmation email; its link works.
  const outbox = page.getByRole("table", { name: "Outbox emails" });
  // Its own: other specs' stacks leave their confirmations in the outbox.
  const confirmation = outbox
    .getByRole("row")
    .filter({ hasText: "AWS Notification - Subscription Confirmation" })
    .filter({ hasText: "oncall@" });
  await confirmation.getByRole("button", { name: "Confirm subscription" }).click();
  await expect(emailRow).toContainText("Confirmed");
  // Issue 17, F: the same link again is stale (SNS's token is used up): the
  // page says what SNS refused and what to do, not that AWS is unavailable.
  const outboxPanel = page.getByRole("region", { name: "Outbox" });
  await expect(outboxPanel.getByRole("status")).toHaveText("Subscription confirmed");
  await confirmation.getByRole("button", { name: "Confirm subscription" }).click();
  const refusal = outboxPanel.getByRole("alert");
  await expect(refusal).toContainText("InvalidParameter");
  await expect(refusal).toContainText("Ask for a new confirmation");
  await expect(refusal).not.toContainText("unavailable");
  await expect(emailRow).toContainText("Confirmed");

  // History, reached by the navigation; from here on nothing reloads.
  await page.getByRole("navigation", { name: "Sections" }).getByRole("link", { name: "History" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "History" })).toBeVisible();
  let loads = 0;
  page.on("load", () => {
    loads += 1;
  });

  // Breach the threshold: Sum 5 > 1 in a 10-second period.
  await cloudwatch(endpoint, "PutMetricData", {
    Namespace: NAMESPACE,
    MetricData: [{ MetricName: METRIC, Value: 5 }],
  });

  const history = page.getByRole("table", { name: "Alarm history" });
  const change = history
    .getByRole("row")
    .filter({ hasText: ALARM })
    .filter({ hasText: "Alarm updated from INSUFFICIENT_DATA to ALARM" });
  await expect(change).toBeVisible({ timeout: 90_000 });
  // Its notification, from the inbox queue, is linked to it.
  await expect(change.getByRole("cell").last()).toHaveText("1", { timeout: 60_000 });
  expect(loads).toBe(0);

  await change.getByRole("link", { name: "Alarm updated from INSUFFICIENT_DATA to ALARM" }).click();
  await expect(page.getByTestId("reason")).toContainText("Threshold Crossed");
  await expect(page.getByRole("img", { name: "Datapoints that caused the change" })).toBeVisible();
  const delivered = page.getByRole("table", { name: "Notifications delivered" });
  await expect(delivered).toContainText(`ALARM: "${ALARM}" in Asia Pacific (Sydney)`);
  expect(loads).toBe(0);

  // And the confirmed email subscriber got the alarm in the outbox.
  await page.goto("/subscribers");
  await expect(
    page.getByRole("table", { name: "Outbox emails" }).getByRole("row").filter({ hasText: `ALARM: "${ALARM}"` }),
  ).toBeVisible();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the History page renders its filters from the URL and exports CSV", async ({ page, request }) => {
    await page.goto("/history?state=ALARM&text=updated");
    await expect(page.getByRole("heading", { level: 1, name: "History" })).toBeVisible();
    await expect(page.getByLabel("Text")).toHaveValue("updated");
    await expect(page.getByLabel("State", { exact: true })).toHaveValue("ALARM");
    await expect(page.getByRole("img", { name: "Alarm states over time" })).toBeVisible();
    const csv = await request.get("/history.csv?state=ALARM");
    expect(csv.ok()).toBe(true);
    expect(csv.headers()["content-type"]).toContain("text/csv");
    expect((await csv.text()).split("\r\n")[0]).toBe(
      "timestamp,alarm_name,item_type,old_state,new_state,summary,notifications",
    );
  });
});
