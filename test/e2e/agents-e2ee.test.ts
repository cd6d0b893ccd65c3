/**
 * An E2E-only node (`cloister up --require-e2ee`) runs agents: the run request travels
 * sealed from the verifying client, the agent's own model calls re-enter the node in
 * process (never on the network) and are served, while a plaintext request from outside —
 * to the models or to the runs route — is still refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { attestationDigest } from "../../src/agents/attestation-digest.js";
import { signBundle } from "../../src/agents/bundle.js";
import { buildBundle } from "../../src/agents/build.js";
import { runAgentVerified } from "../../src/agents/client.js";
import { exampleAgentFiles } from "../../src/agents/example.js";
import { Hub } from "../../src/agents/hub/hub.js";
import { openHubStore } from "../../src/agents/hub/store.js";
import { detectSandbox } from "../../src/agents/sandbox/detect.js";
import { ANSWER, startTestNode, type TestNode } from "./client-fixtures.js";

const support = detectSandbox();
const title = support.available ? "agents on an E2E-only node (real sandbox, real gateway)" : `agents on an E2E-only node (skipped: ${support.reason})`;

describe.skipIf(!support.available)(title, () => {
  let node: TestNode;
  let hubStore: ReturnType<typeof openHubStore>;
  let dir: string;

  beforeAll(async () => {
    hubStore = openHubStore();
    node = await startTestNode({ apiKey: true, requireE2E: true, agents: { hub: new Hub(hubStore) } });
    dir = mkdtempSync(join(tmpdir(), "cloister-agent-src-"));
    for (const [f, text] of Object.entries(exampleAgentFiles("summarise", "fake"))) writeFileSync(join(dir, f), text);
    const signed = signBundle(await buildBundle(dir, { nodePaths: [resolve("node_modules")] }), ed25519.utils.randomSecretKey());
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, signingAlgo: "ed25519" });
    const res = await f(`${node.url}/v1/agents`, { method: "POST", headers: { authorization: `Bearer ${node.apiKey}`, "content-type": "application/json" }, body: JSON.stringify(signed) });
    expect(res.status, await res.clone().text()).toBe(201);
  });
  afterAll(async () => {
    await node?.close();
    hubStore?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("serves the agent's own model calls, and the receipt names the attestation the client verified", async () => {
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, signingAlgo: "ed25519" });
    const run = await runAgentVerified({ fetch: f, baseURL: node.url, apiKey: node.apiKey ?? "", agent: "summarise", input: JSON.stringify({ text: "private" }) });
    expect(run.outcome).toBe("ok");
    expect(JSON.parse(run.output)).toEqual({ summary: ANSWER });
    expect(run.receipt.receipt.egress).toEqual([expect.objectContaining({ host: "inference", connections: 1 })]);
    const pinned = f.pinned;
    expect(pinned).toBeTruthy();
    if (pinned) expect(run.receipt.receipt.attestation.attestation_sha256).toBe(attestationDigest(pinned));
  });

  it("still refuses plaintext from outside: the models and the runs route", async () => {
    const auth = { authorization: `Bearer ${node.apiKey}`, "content-type": "application/json" };
    const chat = await fetch(`${node.url}/v1/chat/completions`, { method: "POST", headers: auth, body: JSON.stringify({ model: "fake", messages: [{ role: "user", content: "hi" }] }) });
    const runs = await fetch(`${node.url}/v1/agents/runs`, { method: "POST", headers: auth, body: JSON.stringify({ agent: "summarise", input: "{}" }) });
    for (const r of [chat, runs]) {
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toMatch(/e2e_required/i);
    }
  });
});
