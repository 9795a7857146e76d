// Issue 17, H: charts people can read. On the sandbox, with real traffic
// (wrong-key decrypts at the deployed application, counted by the metric
// filter): the alarm editor's preview chart has a UTC time axis and a value
// axis with labels, the threshold labelled, and shows the nearest datapoint
// under the pointer; the threshold sweep appears and picking a value (from
// the chart or the list) fills the threshold field; the Testing page's
// metric chart keeps its range and hover across its 1-second refresh;
// History's "States over time" and a state change's datapoints have axes
// too, and the timeline renders as static SVG with its labels before any
// JavaScript runs. Screenshots of the three charts go to
// end2end/screenshots/. The spec deploys its own lab under its own prefix
// and tears it down at the end.
import { expect, test, type Locator } from "@playwright/test";
import { call, deployLab, earlyInAlarmPeriod, hydrated } from "../lab";

// Under the console's lab prefix ("pattern1"): History follows the alarms it
// manages, which are those named with that prefix or alerting a lab topic.
const PREFIX = "pattern1-charts";
const ALARM = `${PREFIX}-logging-Pattern1ApplicationKMSSecurityAlarm`;
const SHOTS = "screenshots";

/** The chart has a time axis with several UTC tick labels and, if it plots values, a value axis. */
async function expectAxes(chart: Locator, values: boolean): Promise<void> {
  await expect(chart.locator(".x-axis text.chart-caption")).toContainText("Time (UTC)");
  expect(await chart.locator(".x-axis text:not(.chart-caption)").count()).toBeGreaterThanOrEqual(3);
  await expect(chart.locator(".x-axis text:not(.chart-caption)").first()).toHaveText(/^(\d\d-\d\d )?\d\d:\d\d(:\d\d)?$|^\d\d-\d\d$/);
  if (values) {
    expect(await chart.locator(".y-axis text.chart-axis:not(.chart-caption)").count()).toBeGreaterThanOrEqual(2);
  }
}

/**
 * Moves the pointer across the plot until the hover label shows. The charts
 * sit below the fold: `locator.hover` scrolls the chart into view first, where
 * `page.mouse.move` to its bounding box would point outside the viewport and
 * reach no element at all.
 */
async function hoverShows(chart: Locator): Promise<string> {
  const box = await chart.boundingBox();
  if (!box) throw new Error("chart not laid out");
  for (const fraction of [0.5, 0.3, 0.7, 0.2, 0.85]) {
    await chart.hover({ position: { x: box.width * fraction, y: box.height * 0.4 } });
    const hover = chart.getByTestId("chart-hover");
    if (await hover.isVisible()) return (await hover.textContent()) ?? "";
  }
  await expect(chart.getByTestId("chart-hover")).toBeVisible();
  return "";
}

test("the charts have labelled axes, hover values and a threshold sweep that fills the form", async ({ page, browser }) => {
  test.setTimeout(900_000);

  const endpoint = await deployLab(page, PREFIX);
  await expect
    .poll(async () => (await call(endpoint, "GET", "/", "").catch(() => ({ status: 0 }))).status, { timeout: 60_000 })
    .toBe(200);
  expect((await call(endpoint, "POST", "/encrypt", '{"Name":"Bob","Text":"Run your own race"}')).status).toBe(200);
  await earlyInAlarmPeriod(page);
  for (let i = 0; i < 4; i++) {
    await call(endpoint, "GET", "/decrypt", '{"Name":"Bob","Key":"some-random-false-key"}');
  }

  // The alarm editor: the preview chart opens on the data, with both axes, the threshold labelled, and hover values.
  await page.goto(`/alarms/edit?name=${encodeURIComponent(ALARM)}`);
  await hydrated(page);
  await expect(page.getByTestId("alarm-state")).toHaveText("ALARM", { timeout: 90_000 });
  // The console caches the metric's history for 30 s: reload until it holds the failures.
  await expect
    .poll(
      async () => {
        await page.reload();
        await hydrated(page);
        const count = page.getByTestId("outcome-current").getByTestId("alarm-count");
        await expect(count).toBeVisible({ timeout: 30_000 });
        return Number(await count.textContent());
      },
      { timeout: 120_000, intervals: [10_000] },
    )
    .toBeGreaterThan(0);
  const preview = page.getByRole("img", { name: "Metric with both thresholds" });
  await expect(preview).toBeVisible();
  await expectAxes(preview, true);
  await expect(preview.locator(".chart-threshold-label")).toContainText(["current 1"]);
  expect(await preview.locator(".state-alarm").count()).toBeGreaterThanOrEqual(1);
  const hovered = await hoverShows(preview);
  expect(hovered).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: \d/);
  // A chosen range, then back to the data.
  const controls = page.getByRole("group", { name: "Time range of Metric with both thresholds" });
  await controls.getByRole("button", { name: "All" }).click();
  await expect(preview.locator(".x-axis text:not(.chart-caption)").first()).toHaveText(/^\d\d-\d\d/);
  await controls.getByRole("button", { name: "Fit to data" }).click();
  await expect(controls.getByRole("button", { name: "Fit to data" })).toHaveAttribute("aria-pressed", "true");

  // The sweep: alarms per threshold, current threshold marked; picking fills the Threshold field.
  const sweep = page.getByRole("img", { name: "Threshold sweep" });
  await expect(sweep).toBeVisible({ timeout: 30_000 });
  await expect(sweep.locator(".x-axis")).toContainText("Threshold");
  await expect(sweep.locator(".chart-threshold-label").first()).toContainText("current 1");
  const threshold = page.getByLabel("Threshold", { exact: true });
  const picker = page.getByLabel("Threshold from the sweep");
  const options = await picker.locator("option").allTextContents();
  expect(options.length).toBeGreaterThan(10);
  const pickedValue = await picker.locator("option").nth(options.length - 2).getAttribute("value");
  await picker.selectOption({ index: options.length - 2 });
  await expect(threshold).toHaveValue(pickedValue ?? "");
  await expect(page.getByTestId("outcome-proposed")).toContainText(`> ${pickedValue} for 1 of 1`);
  // Clicking the chart picks the threshold under the pointer (scrolled into view first, as a user would).
  const box = await sweep.boundingBox();
  if (!box) throw new Error("sweep not laid out");
  await sweep.click({ position: { x: box.width * 0.3, y: box.height * 0.5 } });
  await expect(threshold).not.toHaveValue(pickedValue ?? "");
  await expect(threshold).toHaveValue(/^\d+(\.\d+)?$/);
  await page.getByRole("region", { name: "Preview" }).screenshot({ path: `${SHOTS}/preview-chart.png` });
  await page.getByRole("region", { name: "Threshold sweep" }).screenshot({ path: `${SHOTS}/threshold-sweep.png` });

  // The Testing page's live metric chart.
  await page.goto("/lab/testing");
  await hydrated(page);
  const metric = page.getByRole("img", { name: "Metric datapoints and threshold" });
  await expect(metric).toBeVisible({ timeout: 30_000 });
  await expectAxes(metric, true);
  await expect(metric.locator(".chart-threshold-label")).toContainText("threshold 1");
  await page.getByRole("region", { name: "Live view" }).screenshot({ path: `${SHOTS}/testing-metric-chart.png` });
  // The live view redraws every second; a chosen range and the hovered datapoint outlive the redraws.
  const liveControls = page.getByRole("group", { name: "Time range of Metric datapoints and threshold" });
  await liveControls.getByRole("button", { name: "All" }).click();
  const drawnFrom = await metric.locator(".x-axis").getAttribute("data-from");
  expect(await hoverShows(metric)).toMatch(/\d\d:\d\d:\d\d UTC: \d/);
  // "All" follows the moving window, so a new start means the chart was redrawn.
  await expect.poll(() => metric.locator(".x-axis").getAttribute("data-from"), { timeout: 10_000 }).not.toBe(drawnFrom);
  await expect(liveControls.getByRole("button", { name: "All" })).toHaveAttribute("aria-pressed", "true");
  await expect(metric.getByTestId("chart-hover")).toBeVisible();

  // History's states over time: opened where the changes are, with axes.
  await page.goto("/history");
  await hydrated(page);
  const timeline = page.getByRole("img", { name: "Alarm states over time" });
  await expect(timeline).toBeVisible();
  await expect(timeline).toContainText(PREFIX, { timeout: 90_000 });
  await expectAxes(timeline, false);
  await page.getByRole("region", { name: "Timeline" }).screenshot({ path: `${SHOTS}/history-timeline.png` });
  // A state change's datapoints, on a time axis too.
  const change = page.getByRole("table", { name: "Alarm history" }).getByRole("row").filter({ hasText: ALARM });
  await change.getByRole("link", { name: /to ALARM$/ }).first().click();
  const datapoints = page.getByRole("img", { name: "Datapoints that caused the change" });
  await expect(datapoints).toBeVisible();
  await expectAxes(datapoints, true);
  await expect(datapoints.locator(".chart-threshold-label")).toContainText("threshold 1");

  // Without JavaScript: the same charts as static SVG with their labels.
  const context = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const noJs = await context.newPage();
  await noJs.goto("/history");
  const staticTimeline = noJs.getByRole("img", { name: "Alarm states over time" });
  await expect(staticTimeline).toBeVisible();
  await expectAxes(staticTimeline, false);
  await context.close();

  await page.goto("/lab/teardown");
  await hydrated(page);
  await page.getByLabel(`Type the prefix ${PREFIX} to confirm`).fill(PREFIX);
  await page.getByRole("button", { name: "Tear down the lab" }).click();
  await expect(page.getByRole("heading", { name: "Teardown finished" })).toBeVisible({ timeout: 600_000 });
});
