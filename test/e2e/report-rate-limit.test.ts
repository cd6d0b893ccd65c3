/**
 * Issue 7 item 9c: the unauthenticated attestation report answered as fast as it was asked.
 * A flood from one address (127.0.0.2, a real socket bound to it) gets 429 with
 * Retry-After, OpenAI-shaped; a client on another address (127.0.0.1) is still served.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { createGateway } from "../../src/gateway/app.js";
import { startServer, type RunningServer } from "../../src/gateway/server.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import type { Store } from "../../src/store/store.js";
import { fakeBackend } from "./client-fixtures.js";

let server: RunningServer;
let store: Store;

beforeAll(async () => {
  store = openSqliteStore({ path: ":memory:" });
  const app = createGateway({ backend: fakeBackend(), tee: createSimulatorProvider(), store, authRequired: true, limits: { reportRateLimit: { burst: 5, perSecond: 0.5 } } });
  server = await startServer(app, { host: "127.0.0.1", port: 0 });
});
afterAll(async () => {
  await server.close({ drainMs: 10 });
  await store.close();
});

function getReport(from: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.port, path: `/v1/attestation/report?nonce=${"55".repeat(32)}`, localAddress: from, agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => void (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("attestation report rate limit", () => {
  it("answers a flood from one address with 429 + Retry-After, and keeps serving other addresses", async () => {
    const flood = await Promise.all(Array.from({ length: 20 }, () => getReport("127.0.0.2")));
    const ok = flood.filter((r) => r.status === 200);
    const limited = flood.filter((r) => r.status === 429);
    expect(ok).toHaveLength(5);
    expect(limited).toHaveLength(15);
    const first = limited[0]!;
    expect(Number(first.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(first.body)).toMatchObject({ error: { code: "rate_limit_exceeded", param: null } });
    expect(typeof JSON.parse(first.body).error.message).toBe("string");

    const other = await getReport("127.0.0.1");
    expect(other.status).toBe(200);
    expect(JSON.parse(other.body)).toHaveProperty("signing_address");
  });
});
