/**
 * A client that goes away before its answer: the node's request signal fires, so the
 * upstream call is cut (the upstream sees its connection close) and the usage row reads
 * `cancelled`. Through the real `cloister up` server and a real upstream process, since
 * the signal comes from the node server's socket (src/gateway/middleware/scope.ts).
 */
import { request } from "node:http";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storePath } from "../../src/store/sqlite.js";
import { startUpstreamServer } from "../fixtures/upstream-server.js";
import { startNode, type RunningNode } from "./node-harness.js";

let upstream: { port: number; close(): Promise<void> };
let node: RunningNode;
beforeAll(async () => {
  upstream = await startUpstreamServer({ port: 0 });
  node = await startNode(["--upstream", `http://127.0.0.1:${upstream.port}`, "--no-auth", "--tee", "simulated"]);
}, 60_000);
afterAll(async () => {
  await node?.stop();
  await upstream?.close();
});

async function stats(): Promise<{ requests: number; disconnects: number }> {
  return (await (await fetch(`http://127.0.0.1:${upstream.port}/_stats`)).json()) as { requests: number; disconnects: number };
}

describe("a client that goes away", () => {
  it.each([false, true])("cuts the upstream call and meters the request cancelled (stream: %s)", async (stream) => {
    const before = await stats();
    // canned-slow answers one token every 20 ms, 1,000 of them: ~20 s unless cut.
    const body = JSON.stringify({ model: "canned-slow", stream, messages: [{ role: "user", content: "go" }] });
    const id = await new Promise<string>((resolve, reject) => {
      const req = request(`${node.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
        resolve(String(res.headers["x-request-id"] ?? ""));
        setTimeout(() => req.destroy(), 100);
      });
      req.on("error", () => undefined);
      req.end(body);
      // A non-streamed answer sends no header before it is done: the id is read from the store then.
      if (!stream) setTimeout(() => (req.destroy(), resolve("")), 300);
      setTimeout(() => reject(new Error("no response")), 10_000);
    });
    await expect.poll(async () => (await stats()).disconnects, { timeout: 5_000 }).toBeGreaterThan(before.disconnects);
    const db = new Database(storePath(node.dataDir), { readonly: true });
    try {
      await expect
        .poll(() => (db.prepare(id ? "SELECT status FROM usage WHERE request_id = ?" : "SELECT status FROM usage ORDER BY started_at DESC LIMIT 1").get(...(id ? [id] : [])) as { status: string } | undefined)?.status, { timeout: 5_000 })
        .toBe("cancelled");
    } finally {
      db.close();
    }
  }, 30_000);
});

describe("a pass-through request the node's own time limit cuts", () => {
  let limited: RunningNode;
  beforeAll(async () => {
    limited = await startNode(["--upstream", `http://127.0.0.1:${upstream.port}`, "--no-auth", "--tee", "simulated", "--request-timeout-ms", "1000"]);
  }, 60_000);
  afterAll(async () => limited?.stop());

  it.each([false, true])("is metered error, not cancelled: the client did not leave (stream: %s)", async (stream) => {
    const body = JSON.stringify({ model: "canned-slow", stream, messages: [{ role: "user", content: "go" }] });
    const res = await fetch(`${limited.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const text = await res.text();
    expect(text).toContain("request_timeout");
    const db = new Database(storePath(limited.dataDir), { readonly: true });
    try {
      await expect.poll(() => (db.prepare("SELECT status FROM usage ORDER BY started_at DESC LIMIT 1").get() as { status: string } | undefined)?.status, { timeout: 5_000 }).toBe("error");
    } finally {
      db.close();
    }
  }, 30_000);
});
