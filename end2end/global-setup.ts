// Waits until the console answers its health check, so tests never race the
// server's start-up (cargo-leptos starts it and the tests together).
export default async function globalSetup(): Promise<void> {
  const baseURL = process.env.KEYWATCH_URL ?? "http://127.0.0.1:3000";
  const deadline = Date.now() + 120_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${baseURL}/healthz`);
      if (response.ok) return;
      lastError = new Error(`health check answered ${response.status}`);
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the console at ${baseURL} did not become healthy: ${String(lastError)}`);
}
