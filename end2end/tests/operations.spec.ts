// Issue 10, item 5 in the browser: while the sandbox throttles every
// CloudWatch call, the History page keeps showing what is stored and a panel
// says AWS is throttling CloudWatch; when the throttling stops, the panel
// goes away by itself. Faults are set through the sandbox's
// `PUT /_keywatch/faults`, and always cleared again.
import { expect, test } from "@playwright/test";
import { sandboxEndpoint } from "../lab";

async function setFaults(endpoint: string, rules: object[]): Promise<void> {
  const response = await fetch(`${endpoint}/_keywatch/faults`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(rules),
  });
  expect(response.ok, await response.text()).toBe(true);
}

test("a throttled CloudWatch shows as a panel on the History page, which keeps working", async ({ page }) => {
  // The history poller retries in adaptive mode (8 attempts with back-off)
  // before its round counts as failed: that takes up to about a minute.
  test.setTimeout(240_000);
  const endpoint = await sandboxEndpoint(page);
  expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  try {
    await setFaults(endpoint, [{ service: "monitoring", throttleEvery: 1 }]);
    await page.goto("/history");
    const panel = page.getByRole("status").filter({ hasText: "AWS is throttling CloudWatch; retrying." });
    await expect(panel).toBeVisible({ timeout: 150_000 });
    // The page itself still works: its filters and table are there.
    await expect(page.getByRole("heading", { name: "History", exact: true })).toBeVisible();
    await expect(page.getByRole("button", { name: "Apply filters" })).toBeVisible();
  } finally {
    await setFaults(endpoint, []);
  }
  // The next successful round clears it; the panel refreshes by itself.
  await expect(page.getByRole("status").filter({ hasText: "AWS is throttling" })).toHaveCount(0, { timeout: 90_000 });
});
