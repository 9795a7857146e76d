// `make bench`: what a browser transfers for the first load of `/` and how
// long it takes to reach network idle, with the console's compression (the
// browser's usual Accept-Encoding) and without it (Accept-Encoding:
// identity), alternating in one run so the machine's speed cancels out.
//
// Usage: node bench/first-load.mjs http://127.0.0.1:PORT [rounds]
import { chromium } from "@playwright/test";

const base = process.argv[2];
const rounds = Number(process.argv[3] ?? 5);
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking"];

/** One cold first load in a fresh context: bytes on the wire and time. */
async function firstLoad(browser, compressed) {
  const context = await browser.newContext(compressed ? {} : { extraHTTPHeaders: { "Accept-Encoding": "identity" } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
  let transferred = 0;
  const encodings = new Map();
  cdp.on("Network.loadingFinished", (event) => {
    transferred += event.encodedDataLength;
  });
  cdp.on("Network.responseReceived", (event) => {
    const headers = Object.fromEntries(Object.entries(event.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    encodings.set(new URL(event.response.url).pathname, headers["content-encoding"] ?? "identity");
  });
  const started = performance.now();
  await page.goto(`${base}/`, { waitUntil: "networkidle" });
  const idle = performance.now() - started;
  await context.close();
  return { transferred, idle, encodings };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const browser = await chromium.launch({ executablePath, args });
const on = [];
const off = [];
for (let round = 0; round < rounds; round++) {
  on.push(await firstLoad(browser, true));
  off.push(await firstLoad(browser, false));
}
await browser.close();

const show = (label, loads) => {
  const bytes = median(loads.map((load) => load.transferred));
  const idle = median(loads.map((load) => load.idle));
  console.log(`  ${label.padEnd(26)} ${String(bytes).padStart(9)} bytes transferred, network idle after ${idle.toFixed(0)} ms (median of ${loads.length})`);
  return { bytes, idle };
};
console.log("first_load_of_/ (Chromium, cold cache, loopback)");
const compressed = show("compression on", on);
const plain = show("compression off (identity)", off);
const encodings = [...on[0].encodings].filter(([path]) => path.startsWith("/pkg/") || path === "/");
console.log(`  encodings with compression on: ${encodings.map(([path, encoding]) => `${path} ${encoding}`).join(", ")}`);
console.log(`  bytes on / off: ${(compressed.bytes / plain.bytes).toFixed(3)}; network idle on / off: ${(compressed.idle / plain.idle).toFixed(3)}`);
