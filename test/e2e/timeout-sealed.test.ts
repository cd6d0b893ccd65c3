/**
 * A pass-through stream cut by the node's own time limit, sealed end to end and read by
 * the verifying client: the client gets the request_timeout event inside a whole, signed
 * stream (the recovered event is sealed and covered like every other byte), not a
 * truncated one it must refuse.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { createHttpFetch } from "../../src/gateway/http-fetch.js";
import { createUpstreamBackend } from "../../src/inference/upstream/backend.js";
import { startUpstreamServer } from "../fixtures/upstream-server.js";
import { startTestNode, type TestNode } from "./client-fixtures.js";

let upstream: { port: number; close(): Promise<void> };
let node: TestNode;
beforeAll(async () => {
  upstream = await startUpstreamServer({ port: 0 });
  const backend = createUpstreamBackend({ baseURL: `http://127.0.0.1:${upstream.port}`, fetch: createHttpFetch() });
  node = await startTestNode({ backend, requireE2E: true, requestTimeoutMs: 400 });
}, 30_000);
afterAll(async () => {
  await node?.close();
  await upstream?.close();
});

describe("the node's time limit on a sealed pass-through stream", () => {
  it("reaches the verifying client as a request_timeout event in a whole, signed stream", async () => {
    const vf = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, onFailure: "throw" });
    // canned-slow: one token every 20 ms, 1,000 of them, so the 400 ms limit cuts it.
    const res = await vf(`${node.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "canned-slow", stream: true, messages: [{ role: "user", content: "go" }] }) });
    expect(res.status).toBe(200);
    // Read to the end: a stream the client could not verify (cut, unsigned) would throw here.
    const text = await res.text();
    expect(text).toContain('"content":');
    expect(text).toContain("request_timeout");
    expect(text).not.toContain("[DONE]");
  }, 20_000);
});
