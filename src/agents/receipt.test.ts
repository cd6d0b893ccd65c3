import { describe, expect, it } from "vitest";
import { createSigner } from "../seal/signing.js";
import { attestationDigest } from "./attestation-digest.js";
import { RECEIPT_FORMAT, signReceipt, verifyReceipt, type RunReceipt } from "./receipt.js";

const signer = createSigner("ed25519");
const h = "c".repeat(64);
const node = { tee: "simulated", signingAddress: signer.address, e2ePublicKey: new Uint8Array(32).fill(7) };
const receipt: RunReceipt = {
  format: RECEIPT_FORMAT,
  run_id: "run_x",
  agent: { name: "a", version: "1.0.0", developer_key: "d".repeat(64) },
  bundle_sha256: h,
  manifest_sha256: h,
  scanner_report_sha256: null,
  observability: "none",
  full_accepted: false,
  requirements: { observability: "none" },
  sandbox: { kind: "bubblewrap", seccomp: true, cgroup: "v1" },
  egress: [{ host: "api.example.com", port: 443, connections: 1, bytes_out: 1, bytes_in: 2 }],
  egress_refused: 0,
  input_sha256: h,
  output_sha256: h,
  outcome: "ok",
  exit_code: 0,
  started_at: 1,
  duration_ms: 2,
  attestation: { tee: "simulated", signing_algo: "ed25519", signing_address: signer.address, attestation_sha256: attestationDigest(node) },
};

describe("run receipts", () => {
  it("verify under the attested key", () => {
    const s = JSON.parse(JSON.stringify(signReceipt(receipt, signer)));
    expect(verifyReceipt(s, node).receipt.outcome).toBe("ok");
  });
  it("fail when any field changes, or the key is not the attested one", () => {
    const s = signReceipt(receipt, signer);
    expect(() => verifyReceipt({ ...s, receipt: { ...s.receipt, egress: [] } }, node)).toThrow(/hash/);
    const other = createSigner("ed25519");
    expect(() => verifyReceipt(s, { ...node, signingAddress: other.address })).toThrow(/attested/);
    const forged = signReceipt({ ...receipt, attestation: { ...receipt.attestation, signing_address: other.address } }, other);
    expect(() => verifyReceipt(forged, node)).toThrow(/attested/);
    expect(() => verifyReceipt({ ...s, signature: "00".repeat(64) }, node)).toThrow(/verify/);
  });
  it("fail when they name another attestation than the one the client verified", () => {
    const s = signReceipt(receipt, signer);
    // Same signing key, another boot (fresh E2E key) or another TEE: refused.
    expect(() => verifyReceipt(s, { ...node, e2ePublicKey: new Uint8Array(32).fill(8) })).toThrow(/another attestation/);
    expect(() => verifyReceipt(s, { ...node, tee: "intel-tdx" })).toThrow(/attestation/);
    const unbound = signReceipt({ ...receipt, attestation: { ...receipt.attestation, attestation_sha256: "0".repeat(64) } }, signer);
    expect(() => verifyReceipt(unbound, node)).toThrow(/another attestation/);
  });
});
