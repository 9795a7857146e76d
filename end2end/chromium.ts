// How the tests start Debian's Chromium (never a downloaded browser: this
// machine's network reaches package registries only). Shared by the
// Playwright config and specs that launch a second browser of their own.
export const chromiumExecutable = process.env.CHROMIUM ?? "/usr/bin/chromium";

export const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
