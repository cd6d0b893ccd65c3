/**
 * Issue 7 item 9b: slowloris against the node over real raw sockets. Four bodies trickling
 * a byte at a time once held all four slots for a minute; headers trickled the same way
 * held sockets for up to 40 s. The minimum body rate and the header deadline cut them off,
 * and another client is served meanwhile.
 */
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { createGateway } from "../../src/gateway/app.js";
import { startServer, type RunningServer } from "../../src/gateway/server.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import type { Store } from "../../src/store/store.js";
import { fakeBackend } from "./client-fixtures.js";

let server: RunningServer;
let store: Store;
const sockets: Socket[] = [];
const body = JSON.stringify({ model: "fake", messages: [{ role: "user", content: `hi ${"x".repeat(500)}` }] });

beforeAll(async () => {
  store = openSqliteStore({ path: ":memory:" });
  // Four slots, and no request time limit to speak of: only the rate guard may free them.
  const app = createGateway({ backend: fakeBackend(), tee: createSimulatorProvider(), store, authRequired: false, limits: { maxConcurrent: 4, requestTimeoutMs: 600_000 } });
  server = await startServer(app, { host: "127.0.0.1", port: 0, headersTimeoutMs: 1500, bodyRate: { graceMs: 1000, minBytesPerSec: 200, idleMs: 5000, tickMs: 100 } });
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await server.close({ drainMs: 10 });
  await store.close();
});

function open(): Promise<Socket> {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname, () => resolve(s));
    s.on("error", reject);
    sockets.push(s);
  });
}

/** Writes `text` one byte every `everyMs` until the server closes the socket; resolves with what the server sent. */
function trickle(s: Socket, text: string, everyMs: number): Promise<string> {
  let got = "";
  s.on("data", (d: Buffer) => void (got += d.toString()));
  return new Promise((resolve) => {
    let i = 0;
    const timer = setInterval(() => {
      if (s.destroyed || i >= text.length) return;
      s.write(text[i++] ?? "");
    }, everyMs);
    s.once("close", () => (clearInterval(timer), resolve(got)));
  });
}

const chat = (status?: number) =>
  fetch(`${server.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body }).then((r) => (status === undefined ? r : (expect(r.status).toBe(status), r)));

/** Resolves with `p`, or with "still open" if the server has not acted within `ms` (the attack worked). */
const within = <T>(p: Promise<T>, ms: number): Promise<T | "still open"> => Promise.race([p, new Promise<"still open">((r) => setTimeout(() => r("still open"), ms))]);

describe("slowloris", () => {
  it("cuts off four bodies trickling a byte at a time, and serves another client meanwhile", async () => {
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const attackers = await Promise.all([0, 1, 2, 3].map(() => open()));
    const cut = attackers.map((s) => {
      s.write(head);
      return trickle(s, body, 700);
    });
    // Every slot is taken by the attackers now...
    await new Promise((r) => setTimeout(r, 300));
    await chat(429);
    // ...until the rate guard closes their sockets.
    const outcomes = await within(Promise.all(cut), 15_000);
    expect(outcomes).not.toBe("still open");
    const res = await chat(200);
    expect(((await res.json()) as { choices: unknown[] }).choices).toHaveLength(1);
  });

  it("cuts off headers trickled a byte at a time at the header deadline (408)", async () => {
    const s = await open();
    const got = await within(trickle(s, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${"x-pad: y\r\n".repeat(200)}`, 100), 15_000);
    expect(got).not.toBe("still open");
    expect(got).toMatch(/^HTTP\/1\.1 408/);
  });

  it("lets a slow but steady body through", async () => {
    const s = await open();
    let got = "";
    s.on("data", (d: Buffer) => void (got += d.toString()));
    s.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${body.length}\r\n\r\n`);
    // ~10 bytes every 40 ms (250 B/s, above the 200 B/s floor) for the whole body.
    for (let i = 0; i < body.length; i += 10) {
      s.write(body.slice(i, i + 10));
      await new Promise((r) => setTimeout(r, 40));
    }
    // Sent over ~2.3 s, past the 1 s grace period: the rate check ran and let it pass.
    await within(new Promise<void>((r) => (got.includes('"usage"') ? r() : s.on("data", () => got.includes('"usage"') && r()))), 5000);
    expect(got).toMatch(/^HTTP\/1\.1 200/);
  });
});
