// Playwright drives Debian's Chromium (never a downloaded browser: this
// machine's network reaches package registries only). `cargo leptos
// end-to-end` starts the console before running these tests.
import { defineConfig, devices } from "@playwright/test";
import { chromiumArgs, chromiumExecutable } from "./chromium";

const baseURL = process.env.KEYWATCH_URL ?? "http://127.0.0.1:3000";

export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: { executablePath: chromiumExecutable, args: chromiumArgs },
  },
  projects: [{ name: "chromium", use: { ...devices["Desktop Chrome"] } }],
});
