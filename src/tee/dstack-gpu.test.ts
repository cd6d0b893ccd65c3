import type { Server } from "node:http";
import { afterAll, describe, expect, it } from "vitest";
import { verifyNvidiaPayload } from "../attest/nvidia/payload.js";
import { buildSimulatedGpuPayload } from "../attest/simulator/gpu.js";
import { SIMULATED_GPU_ROOTS_PEM } from "../attest/simulator/roots.js";
import { toHex, utf8 } from "../util/bytes.js";
import { createDstackGpuEvidence, NVATTEST_BUNDLE_FORMAT } from "./dstack-gpu.js";
import { parseGpuEvidenceSetting, resolveGpuEvidence } from "./gpu-evidence-config.js";
import { fakeAgent } from "./test-dstack-agent.js";

const nonceA = new Uint8Array(32).fill(0x3c);
const nonceB = new Uint8Array(32).fill(0x4d);
const sim = { trustedRootsPem: SIMULATED_GPU_ROOTS_PEM };

/** nvattest collect-evidence JSON for one simulated GPU that answers `nonce`, as the agent's bundle bytes (hex). */
function nvattestBundleHex(nonce: Uint8Array): string {
  const p = JSON.parse(buildSimulatedGpuPayload(nonce)) as { evidence_list: { certificate: string; evidence: string; arch: string }[] };
  const doc = { evidences: p.evidence_list.map((e) => ({ ...e, nonce: toHex(nonce), version: "1.0" })), result_code: 0, result_message: "Ok" };
  return toHex(utf8.encode(JSON.stringify(doc)));
}

describe("GPU evidence from the dstack guest agent (v1 AttestGpu)", () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  it("asks /v1/AttestGpu with the nonce, unwraps the nvattest bundle and publishes only verified evidence", async () => {
    const agent = await fakeAgent(() => ({ status: 200, body: JSON.stringify({ bundles: [{ vendor: "nvidia", format: NVATTEST_BUNDLE_FORMAT, evidence: nvattestBundleHex(nonceA) }] }) }));
    servers.push(agent.server);
    const payload = await createDstackGpuEvidence({ socketPath: agent.socketPath, ...sim })(nonceA);
    expect(agent.asked.map((a) => [a.method, a.url, a.body])).toEqual([["POST", "/v1/AttestGpu", JSON.stringify({ nonce: toHex(nonceA) })]]);
    expect(JSON.parse(payload).nonce).toBe(toHex(nonceA));
    expect(verifyNvidiaPayload(payload, { expectedNonce: nonceA, ...sim }).verified).toBe(true);
    // The same evidence is refused for any other nonce.
    await expect(createDstackGpuEvidence({ socketPath: agent.socketPath, ...sim })(nonceB)).rejects.toMatchObject({ code: "GPU_NONCE_MISMATCH" });
  });

  it("refuses an agent error, an old agent (404) and a reply with no NVIDIA bundle as GPU_COLLECTOR_FAILED", async () => {
    const refusing = await fakeAgent(() => ({ status: 200, body: JSON.stringify({ error: "no GPU" }) }));
    const old = await fakeAgent(() => ({ status: 404, body: "Not Found" }));
    const empty = await fakeAgent(() => ({ status: 200, body: JSON.stringify({ bundles: [] }) }));
    servers.push(refusing.server, old.server, empty.server);
    for (const a of [refusing, old, empty]) {
      await expect(createDstackGpuEvidence({ socketPath: a.socketPath, ...sim })(nonceA)).rejects.toMatchObject({ name: "AttestationError", code: "GPU_COLLECTOR_FAILED" });
    }
  });

  it("is what --gpu-evidence dstack resolves to, with no driver probe", async () => {
    const agent = await fakeAgent(() => ({ status: 200, body: JSON.stringify({ bundles: [] }) }));
    servers.push(agent.server);
    expect(parseGpuEvidenceSetting("dstack")).toEqual({ kind: "dstack" });
    const r = await resolveGpuEvidence({ kind: "dstack" }, { dstackSocket: agent.socketPath, run: async () => Promise.reject(new Error("must not run")) });
    expect(r.description).toMatch(/dstack/);
    await expect(r.source?.(nonceA)).rejects.toMatchObject({ code: "GPU_COLLECTOR_FAILED" });
    expect(agent.asked.map((a) => a.url)).toEqual(["/v1/AttestGpu"]);
  });
});
