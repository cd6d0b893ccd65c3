/**
 * Issue 7, item 5: no policy must not mean "any TEE". Without pinned measurements every
 * attestation warns; with trust-on-first-use pinning, a node that starts running other
 * code (a second, genuine-but-different node answering at the same address) is refused
 * with MEASUREMENTS_CHANGED before anything is sent.
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createSimulatedNode, type SimulatedNode } from "../attest/simulator/report.js";
import { attestNode, type AttestOptions } from "./attestation.js";
import { defaultReportVerifier } from "./default-verifier.js";
import { createFilePinStore } from "../cli/pin-file.js";
import { createMemoryPinStore, UNPINNED_SIMULATED_WARNING } from "./pins.js";

/** A fetch that answers the report endpoint from whichever node is current. */
function serving(current: () => SimulatedNode): typeof fetch {
  return (async (input: RequestInfo | URL) => {
    const u = new URL(String(input));
    const nonce = u.searchParams.get("nonce") ?? "";
    const report = await current().report(Uint8Array.from(Buffer.from(nonce, "hex")));
    return new Response(JSON.stringify(report), { status: 200, headers: { "content-type": "application/json" } });
  }) as typeof fetch;
}

/** Genuine-format evidence of a node running other code: it measured another app manifest into RTMR3. */
const other = (): SimulatedNode => createSimulatedNode({ appManifest: { app: "cloister", backend: "llama", models: [{ id: "backdoored", sha256: "ee".repeat(32) }] } });

function options(f: typeof globalThis.fetch, extra: Partial<AttestOptions>): AttestOptions {
  return { baseURL: "https://node.example/v1", fetch: f, verifyReport: defaultReportVerifier, allowSimulated: true, signingAlgo: "ecdsa", ...extra };
}

describe("measurements: pinned, or said to be unpinned every time", () => {
  it("warns on every attestation when nothing is pinned", async () => {
    const warnings: string[] = [];
    const o = options(serving(() => node), { onWarning: (m) => warnings.push(m) });
    const node = createSimulatedNode();
    await attestNode(o);
    await attestNode(o);
    expect(warnings).toEqual([UNPINNED_SIMULATED_WARNING, UNPINNED_SIMULATED_WARNING]);
    // A simulated node proved no TEE: the warning must not say it did.
    expect(warnings[0]).toMatch(/SIMULATED/);
    expect(warnings[0]).not.toMatch(/genuine/);
  });

  it("does not warn when the policy pins a measurement", async () => {
    const node = createSimulatedNode();
    const warnings: string[] = [];
    const first = await attestNode(options(serving(() => node), { onWarning: (m) => warnings.push(m) }));
    const rtmr3 = (first.verification.measurements ?? {})["rtmr3"];
    await attestNode(options(serving(() => node), { onWarning: (m) => warnings.push(m), policy: { allowSimulated: true, measurements: { rtmr3: [rtmr3] } } }));
    expect(warnings).toEqual([UNPINNED_SIMULATED_WARNING]);
  });

  it("pins on first use, accepts the same node again, and refuses another node's code (MEASUREMENTS_CHANGED)", async () => {
    const warnings: string[] = [];
    const pins = createMemoryPinStore();
    let node = createSimulatedNode();
    const o = options(serving(() => node), { pins, onWarning: (m) => warnings.push(m) });
    await attestNode(o);
    expect(warnings[0]).toMatch(/pinned this node's measurements on first use/);
    node = createSimulatedNode(); // a reboot: fresh keys, same code
    await expect(attestNode(o)).resolves.toMatchObject({ simulated: true });
    node = other(); // same address, other code in a genuine(-format) TEE
    await expect(attestNode(o)).rejects.toMatchObject({ code: "MEASUREMENTS_CHANGED", details: { changed: ["rtmr3"] } });
  });

  it("keeps pins in a 0600 file that a second process reads", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "cloister-pins-")), "pins.json");
    let node = createSimulatedNode();
    await attestNode(options(serving(() => node), { pins: createFilePinStore(file), onWarning: () => undefined }));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Object.keys((JSON.parse(readFileSync(file, "utf8")) as { nodes: object }).nodes)).toEqual(["https://node.example/v1"]);
    node = other();
    await expect(attestNode(options(serving(() => node), { pins: createFilePinStore(file), onWarning: () => undefined }))).rejects.toMatchObject({ code: "MEASUREMENTS_CHANGED" });
  });
});
