// Issue 15, finding 1, in a real browser: DNS rebinding. A second Chromium
// whose resolver maps an attacker's name to 127.0.0.1 (what a rebinding DNS
// server achieves) opens the console under that name: the page and a
// same-origin POST from it (Host and Origin both the attacker's, which the
// cross-site check alone accepted) are refused with 421, and nothing changes.
import { chromium, expect, test } from "@playwright/test";
import { chromiumArgs, chromiumExecutable } from "../chromium";

const consoleUrl = new URL(process.env.KEYWATCH_URL ?? "http://127.0.0.1:3000");
const attackerHost = "rebind.attacker.example";

test("a page under a rebound name can neither read nor change the console", async ({ page }) => {
  await page.goto("/history");
  const retentionBefore = await page.getByTestId("retention").textContent();
  const browser = await chromium.launch({
    executablePath: chromiumExecutable,
    args: [...chromiumArgs, `--host-resolver-rules=MAP ${attackerHost} 127.0.0.1`],
  });
  try {
    const attacker = await browser.newPage();
    const rebound = `http://${attackerHost}:${consoleUrl.port}`;
    const response = await attacker.goto(`${rebound}/audit`);
    expect(response?.status()).toBe(421);
    await expect(attacker.locator("body")).toContainText("--allowed-host");

    // The attacker's script, running on its own origin, posts as the local user would.
    const status = await attacker.evaluate(async () => {
      const reply = await fetch("/api/history/set-retention", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "input[keep_days]=1",
      });
      return reply.status;
    });
    expect(status).toBe(421);
  } finally {
    await browser.close();
  }

  // Under its own name the console is unchanged: retention still as it was.
  await page.goto("/history");
  await expect(page.getByTestId("retention")).toHaveText(retentionBefore ?? "");
});
