/**
 * End to end: a developer publishes the `cloister agent init` example (built with esbuild,
 * signed); a user runs it with private input through the verifying client (attested,
 * E2E-sealed, signature checked); the agent calls the node's model with the official
 * `openai` client through the egress proxy; the user gets the output and a verified
 * receipt. The developer's view at `none` holds no byte of the input, and a run whose
 * required guarantees the manifest does not give is refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { signBundle } from "../../src/agents/bundle.js";
import { buildBundle } from "../../src/agents/build.js";
import { runAgentVerified } from "../../src/agents/client.js";
import { exampleAgentFiles } from "../../src/agents/example.js";
import { Hub, telemetrySigningText } from "../../src/agents/hub/hub.js";
import { openHubStore } from "../../src/agents/hub/store.js";
import { detectSandbox } from "../../src/agents/sandbox/detect.js";
import { toHex, utf8 } from "../../src/util/bytes.js";
import { ANSWER, startTestNode, type TestNode } from "./client-fixtures.js";

const support = detectSandbox();
const title = support.available ? "agents end to end (real sandbox, real gateway, verifying client)" : `agents end to end (skipped: ${support.reason})`;
const SECRET = `patient Zebulon Quartermaine, MRN ${Math.floor(Math.random() * 1e9)}`;

describe.skipIf(!support.available)(title, () => {
  let node: TestNode;
  let hubStore: ReturnType<typeof openHubStore>;
  let dir: string;
  const devKey = ed25519.utils.randomSecretKey();

  const publish = async (files: Record<string, string>): Promise<Response> => {
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    const signed = signBundle(await buildBundle(dir, { nodePaths: [resolve("node_modules")] }), devKey);
    return fetch(`${node.url}/v1/agents`, { method: "POST", headers: { authorization: `Bearer ${node.apiKey}`, "content-type": "application/json" }, body: JSON.stringify(signed) });
  };

  beforeAll(async () => {
    hubStore = openHubStore();
    node = await startTestNode({ apiKey: true, agents: { hub: new Hub(hubStore) } });
    dir = mkdtempSync(join(tmpdir(), "cloister-agent-src-"));
  });
  afterAll(async () => {
    await node?.close();
    hubStore?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("publishes, runs with private input through the verifying client, and proves what ran", async () => {
    const res = await publish(exampleAgentFiles("summarise", "fake"));
    expect(res.status).toBe(201);
    const pub = (await res.json()) as { bundle_sha256: string; scanner_report: { verdict: string; dependencies: string[] } };
    expect(pub.scanner_report.verdict).not.toBe("dangerous");
    expect(pub.scanner_report.dependencies).toContain("openai");

    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, signingAlgo: "ed25519" });
    const input = JSON.stringify({ text: SECRET });
    const run = await runAgentVerified({ fetch: f, baseURL: node.url, apiKey: node.apiKey ?? "", agent: "summarise", input, requirements: { egress: [], observability: "none" } });
    // The fake model's answer came back through the agent: it reached the node's model.
    expect(JSON.parse(run.output)).toEqual({ summary: ANSWER });
    expect(run.outcome).toBe("ok");
    const r = run.receipt.receipt;
    expect(r.bundle_sha256).toBe(pub.bundle_sha256);
    expect(r.observability).toBe("none");
    expect(r.requirements).toEqual({ egress: [], observability: "none" });
    expect(r.sandbox.kind).toBe("bubblewrap");
    expect(r.egress).toEqual([expect.objectContaining({ host: "inference", connections: 1 })]);
    expect(r.attestation.signing_address).toBe(f.pinned?.signingAddress);

    // The developer's whole view: hub listing, details and telemetry. No byte of the input.
    const time = Math.floor(Date.now() / 1000);
    const sig = toHex(ed25519.sign(utf8.encode(telemetrySigningText("summarise", time)), devKey));
    const auth = { authorization: `Bearer ${node.apiKey}` };
    const views = await Promise.all([
      fetch(`${node.url}/v1/agents/summarise/telemetry?time=${time}`, { headers: { ...auth, "x-cloister-developer-signature": sig } }),
      fetch(`${node.url}/v1/agents/summarise`, { headers: auth }),
      fetch(`${node.url}/v1/agents?q=summ`, { headers: auth }),
    ]);
    const texts = await Promise.all(views.map((v) => v.text()));
    expect(views.map((v) => v.status)).toEqual([200, 200, 200]);
    expect((JSON.parse(texts[0] ?? "{}") as { data: { record: unknown }[] }).data.map((d) => d.record)).toEqual([{ level: "none", runs: 1 }]);
    for (const t of texts) {
      expect(t.includes(SECRET)).toBe(false);
      expect(t.includes("Zebulon")).toBe(false);
    }
    // Nor anywhere in the hub's database.
    expect(JSON.stringify(hubStore.telemetry("summarise", 100))).not.toContain("Zebulon");
  });

  it("refuses a run whose required guarantees the manifest does not give", async () => {
    const files = exampleAgentFiles("summarise", "fake");
    const m = JSON.parse(files["cloister.agent.json"] ?? "{}") as Record<string, unknown>;
    files["cloister.agent.json"] = JSON.stringify({ ...m, version: "0.2.0", egress: ["api.example.com"], observability: "metrics" });
    expect((await publish(files)).status).toBe(201);
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, signingAlgo: "ed25519" });
    await expect(runAgentVerified({ fetch: f, baseURL: node.url, apiKey: node.apiKey ?? "", agent: "summarise@0.2.0", input: "{}", requirements: { egress: [], observability: "none" } })).rejects.toMatchObject({ code: "AGENT_GUARANTEE_UNMET" });
  });

  it("versions are immutable and the name belongs to its first developer", async () => {
    expect((await publish(exampleAgentFiles("summarise", "fake"))).status).toBe(409);
  });
});
