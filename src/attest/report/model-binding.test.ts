/**
 * Issue 7, item 7: the report's app_manifest (model id and sha256) must be the one RTMR3
 * measured. Attacks: rename the model, fake its sha256, add a second manifest event.
 */
import { describe, expect, it } from "vitest";
import { parseNonce } from "../../types.js";
import { toHex, utf8 } from "../../util/bytes.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { parsePolicy } from "../policy/schema.js";
import { createSimulatedNode } from "../simulator/report.js";
import { verifyAttestationReport } from "../verify.js";
import type { AttestationReport } from "./format.js";

const NONCE_BYTES = new Uint8Array(32).fill(0x31);
const nonce = parseNonce(toHex(NONCE_BYTES));
const MODEL_SHA = "ab".repeat(32);
const manifest = { app: "cloister", version: "0.1.0", backend: "llama", models: [{ id: "qwen2.5-0.5b-instruct", source: "hf:bartowski/Qwen2.5-0.5B-Instruct-GGUF", sha256: MODEL_SHA }] };
const codes = (v: { errors: readonly { code: string }[] }): string[] => [...new Set(v.errors.map((e) => e.code))];
const verify = (r: AttestationReport, policy?: unknown) =>
  verifyAttestationReport(JSON.parse(JSON.stringify(r)), { nonce, allowSimulated: true, ...(policy ? { policy: parsePolicy(policy) } : {}) });
const withManifest = (r: AttestationReport, m: Record<string, unknown>): AttestationReport => ({ ...r, info: { ...r.info, app_manifest: m } });

describe("the model in the report is the one RTMR3 measured", () => {
  it("the measured manifest verifies and gives model_sha256", async () => {
    const v = await verify(await createSimulatedNode({ appManifest: manifest }).report(NONCE_BYTES));
    expect(v.errors).toEqual([]);
    expect(v.measurements["model_sha256"]).toBe(MODEL_SHA);
  });

  it("a renamed model is refused (MODEL_MISMATCH)", async () => {
    const r = await createSimulatedNode({ appManifest: manifest }).report(NONCE_BYTES);
    const renamed = withManifest(r, { ...manifest, models: [{ ...manifest.models[0], id: "gpt-4o" }] });
    expect(codes(await verify(renamed))).toEqual(["MODEL_MISMATCH"]);
  });

  it("a fake sha256 is refused (MODEL_MISMATCH)", async () => {
    const r = await createSimulatedNode({ appManifest: manifest }).report(NONCE_BYTES);
    const faked = withManifest(r, { ...manifest, models: [{ ...manifest.models[0], sha256: "cd".repeat(32) }] });
    const v = await verify(faked);
    expect(codes(v)).toEqual(["MODEL_MISMATCH"]);
    expect(v.measurements["model_sha256"]).toBeUndefined();
  });

  it("a second manifest event appended by the running app does not override the measured one", async () => {
    const node = createSimulatedNode({ appManifest: manifest });
    const fake = { ...manifest, models: [{ ...manifest.models[0], sha256: "cd".repeat(32) }] };
    await node.provider.extendAppEvent("cloister-app-manifest", sha256(utf8.encode(JSON.stringify(fake))));
    const r = withManifest(await node.report(NONCE_BYTES), fake);
    expect(codes(await verify(r))).toEqual(expect.arrayContaining(["EVENT_LOG_INVALID", "MODEL_MISMATCH"]));
  });

  it("a policy pins the model's sha256: another model is MEASUREMENT_NOT_ALLOWED, an unmeasured one POLICY_VIOLATION", async () => {
    const r = await createSimulatedNode({ appManifest: manifest }).report(NONCE_BYTES);
    expect((await verify(r, { allowSimulated: true, measurements: { model_sha256: [MODEL_SHA] } })).errors).toEqual([]);
    expect(codes(await verify(r, { allowSimulated: true, measurements: { model_sha256: ["ef".repeat(32)] } }))).toEqual(["MEASUREMENT_NOT_ALLOWED"]);
    const unmeasured = await createSimulatedNode().report(NONCE_BYTES);
    expect(codes(await verify(withManifest(unmeasured, manifest), { allowSimulated: true, measurements: { model_sha256: [MODEL_SHA] } }))).toEqual(["POLICY_VIOLATION"]);
  });

  it("an unmeasured manifest is said to be the node's word only", async () => {
    const r = await createSimulatedNode().report(NONCE_BYTES);
    const v = await verify(withManifest(r, manifest));
    expect(v.unchecked.some((u) => u.startsWith("app manifest (models) in RTMR3") && u.includes("node's word"))).toBe(true);
  });
});

