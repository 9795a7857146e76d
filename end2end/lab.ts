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

/**
 * Previews and deploys a section from its wizard page under `prefix` and
 * waits for CREATE_COMPLETE. The page is opened on the prefix: a badge
 * showing another lab's stack (the one the page would open on) cannot
 * answer for this one.
 */
export async function deploySection(page: Page, prefix: string, slug: string): Promise<void> {
  await page.goto(`/lab/${slug}?prefix=${prefix}`);
  await hydrated(page);
  await page.getByLabel("Prefix", { exact: true }).fill(prefix);
  await page.getByRole("button", { name: "Preview changes" }).click();
  const preview = page.getByRole("region", { name: "Preview" });
  await expect(preview.getByTestId("preview-summary")).toContainText("Creating the stack adds", { timeout: 60_000 });
  await preview.getByRole("button", { name: "Deploy", exact: true }).click();
  const status = page.getByTestId("stack-status");
  await expect(status).toHaveText(/_IN_PROGRESS$|CREATE_COMPLETE/, { timeout: 15_000 });
  await expect(status).toHaveText("CREATE_COMPLETE", { timeout: 240_000 });
}

/**
 * Deploys the lab's three sections under `prefix` from the wizard; returns
 * the application's endpoint (`host:port`) from the application section's
 * outputs.
 */
export async function deployLab(page: Page, prefix: string): Promise<string> {
  await deploySection(page, prefix, "base-network");
  await deploySection(page, prefix, "application");
  const outputs = page.getByRole("table", { name: "Outputs" });
  const endpoint =
    (await outputs.locator("tr", { hasText: "OutputPattern1ApplicationEndpoint" }).locator("td").nth(1).textContent())?.trim() ?? "";
  expect(endpoint).toMatch(/^[\w.-]+:\d+$/);
  await deploySection(page, prefix, "logging");
  return endpoint;
}

/** The in-process sandbox's endpoint, as the Connection page shows it. */
export async function sandboxEndpoint(page: Page): Promise<string> {
  await page.goto("/");
  const endpoint = page.getByRole("definition").filter({ hasText: /^http:\/\/127\.0\.0\.1:\d+$/ });
  return (await endpoint.textContent())?.trim() ?? "";
}
