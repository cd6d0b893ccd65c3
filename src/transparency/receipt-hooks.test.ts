/**
 * Every signing point feeds the receipt log through one hook (./signed-hook.ts): agent run
 * receipts, data-contribution receipts and key releases become leaves whose inclusion
 * proofs verify, fetched by `<kind>:<id>`; a proof taken later, under a bigger tree, still
 * verifies, and an old checkpoint is a prefix of the new one.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RECEIPT_FORMAT, signReceipt as signRunReceipt, type RunReceipt } from "../agents/receipt.js";
import { signReceipt as signContribution, type ContributionReceipt } from "../data/pipeline/receipt.js";
import { openReleaseLog } from "../kms/broker/release-log.js";
import { createSigner } from "../seal/signing.js";
import { fromHex } from "../util/bytes.js";
import { parseCheckpointText } from "./checkpoint.js";
import { verifyConsistency } from "./merkle.js";
import { ReceiptLog, verifyReceiptInclusion } from "./receipt-log.js";

const dir = mkdtempSync(join(tmpdir(), "cloister-receipt-hooks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const h = "c".repeat(64);

function runReceipt(signer: ReturnType<typeof createSigner>, runId: string): RunReceipt {
  return {
    format: RECEIPT_FORMAT,
    run_id: runId,
    agent: { name: "a", version: "1.0.0", developer_key: "d".repeat(64) },
    bundle_sha256: h,
    manifest_sha256: h,
    scanner_report_sha256: null,
    observability: "none",
    full_accepted: false,
    requirements: null,
    sandbox: { kind: "bubblewrap", seccomp: true, cgroup: null },
    egress: [],
    egress_refused: 0,
    input_sha256: h,
    output_sha256: h,
    outcome: "ok",
    exit_code: 0,
    started_at: 1,
    duration_ms: 2,
    attestation: { tee: "simulated", signing_algo: "ed25519", signing_address: signer.address, attestation_sha256: h },
  };
}

const contribution: ContributionReceipt = {
  contributionId: `0x${"1".repeat(64)}`,
  dataset: "notes",
  pipeline: `0x${"2".repeat(64)}`,
  contributor: `0x${"3".repeat(64)}`,
  receivedSha256: `0x${"4".repeat(64)}`,
  keptSha256: `0x${"5".repeat(64)}`,
  removedSha256: `0x${"6".repeat(64)}`,
  recordsReceived: 3,
  recordsKept: 2,
  recordsRejected: 1,
  recordsDuplicate: 0,
  accepted: true,
  issuedAt: 1_700_000_000,
};

describe("the receipt log hears every signing point", () => {
  it("an agent run receipt is a leaf, fetched by agent-run:<run id>, and its proof verifies", () => {
    const log = new ReceiptLog("test/receipts");
    const signer = createSigner("ed25519");
    const s = signRunReceipt(runReceipt(signer, "run_1"), signer, log.record);
    const proof = log.proof("agent-run:run_1");
    expect(proof).toMatchObject({ index: 0, kind: "agent-run" });
    expect(verifyReceiptInclusion(s.text, proof!)).toBe(true);
    expect(verifyReceiptInclusion(signRunReceipt({ ...runReceipt(signer, "run_1"), outcome: "error" }, signer).text, proof!)).toBe(false);
  });

  it("a data-contribution receipt is a leaf over its EIP-712 digest", () => {
    const log = new ReceiptLog("test/receipts");
    const s = signContribution(createSigner("ecdsa"), contribution, log.record);
    const proof = log.proof(`data-contribution:${contribution.contributionId}`);
    expect(proof?.kind).toBe("data-contribution");
    expect(verifyReceiptInclusion(s.digest, proof!)).toBe(true);
  });

  it("a key release (and only a release) is a leaf of the broker's log", () => {
    const log = new ReceiptLog("test/kms");
    const kms = openReleaseLog(join(dir, "kms.jsonl"), createSigner("ecdsa"), () => new Date(0), log.record);
    kms.append({ event: "register", model_id: "m" });
    const entry = kms.append({ event: "release", model_id: "m", node: "0xabc" });
    expect(log.size).toBe(1);
    const line = JSON.parse(kms.text().trim().split("\n").at(-1) ?? "{}") as { entry: string };
    const proof = log.proof(`key-release:${entry.seq}`);
    expect(proof?.kind).toBe("key-release");
    expect(verifyReceiptInclusion(`cloister/kms/v1 log\n${line.entry}`, proof!)).toBe(true);
  });

  it("a receipt's inclusion proof verifies against a later checkpoint, which extends the one it was first seen under", () => {
    const log = new ReceiptLog("test/receipts");
    const signer = createSigner("ed25519");
    const first = signRunReceipt(runReceipt(signer, "early"), signer, log.record);
    const then = log.proof("agent-run:early")!;
    for (let i = 0; i < 6; i++) signRunReceipt(runReceipt(signer, `later-${i}`), signer, log.record);
    const now = log.proof("agent-run:early")!;
    expect(now.tree_size).toBe(7);
    expect(now.checkpoint).not.toBe(then.checkpoint);
    expect(verifyReceiptInclusion(first.text, now)).toBe(true);
    // The old proof does not pass for the new tree (the root moved on) ...
    expect(verifyReceiptInclusion(first.text, { ...then, tree_size: now.tree_size, checkpoint: now.checkpoint })).toBe(false);
    // ... but the new tree provably extends the old one: the node cannot have rewritten it.
    const a = parseCheckpointText(then.checkpoint);
    const b = parseCheckpointText(now.checkpoint);
    expect(verifyConsistency(a.size, b.size, a.root, b.root, log.consistency(a.size, b.size).map(fromHex))).toBe(true);
  });
});
