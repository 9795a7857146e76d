// Steps on the lab that several specs take the same way.
import * as http from "node:http";
import { expect, type Page } from "@playwright/test";

/** Waits until the page's WebAssembly has hydrated it. */
export async function hydrated(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { __keywatchHydrated?: boolean }).__keywatchHydrated === true);
}

/**
 * Tears the lab under `prefix` down from the Teardown page and waits until
 * this teardown has finished. The page opens on the previous teardown's
 * "Teardown finished <time>", so that heading alone would not wait for
 * anything: the one to wait for is a different one.
 */
export async function tearDownLab(page: Page, prefix: string): Promise<void> {
  await page.goto("/lab/teardown");
  await hydrated(page);
  const progress = page.getByRole("region", { name: "Teardown progress" });
  const previous = (await progress.count()) > 0 ? ((await progress.getByRole("heading").textContent()) ?? "") : "";
  await page.getByLabel(`Type the prefix ${prefix} to confirm`).fill(prefix);
  await page.getByRole("button", { name: "Tear down the lab" }).click();
  const heading = progress.getByRole("heading", { level: 2 });
  if (previous !== "") await expect(heading).not.toHaveText(previous, { timeout: 60_000 });
  await expect(heading).toHaveText(/^Teardown finished/, { timeout: 600_000 });
}

/**
 * Waits until the first half of one of the lab alarm's 10 s periods (they
 * start at multiples of 10 s), so that failures sent now reach the metric
 * (a second after the calls, the sandbox's CloudTrail delivery) before
 * their period is evaluated.
 */
export async function earlyInAlarmPeriod(page: Page): Promise<void> {
  while (Date.now() % 10_000 > 5_000) await page.waitForTimeout(200);
}

/** One request to the application with a JSON body, as the lab's curl commands send it (GET with a body too). */
export function call(endpoint: string, method: string, path: string, body: string): Promise<{ status: number; body: string }> {
  const [host, port] = endpoint.split(":");
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host, port: Number(port), method, path, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) } },
      (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}
