/**
 * Regression tests for the security review of src/attest (docs/notes/attest-gaps.md,
 * "Security review fixes"). The quote helper builds a TDX v4 quote in genuine layout,
 * signed under the simulated PCK chain, whose QE report defaults to Intel's TD_QE
 * identity, so each test breaks exactly one property.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { main } from "../cli/main.js";
import type { CliIO } from "../cli/io.js";
import { parseNonce, type Nonce } from "../types.js";
import { concatBytes, fromHex, toHex, utf8 } from "../util/bytes.js";
import { sharedPath } from "../util/shared.js";
import { verifyQuoteSignatures } from "./intel/index.js";
import { INTEL_QE_MRSIGNER, INTEL_TD_QE_ISVPRODID, INTEL_TD_QE_MRSIGNER } from "./intel/qe-pin.js";
import { parsePolicy } from "./policy/schema.js";
import { TD_OFFSETS, TD_REPORT10_LEN } from "./report/td-quote.js";
import { SIMULATED_PCK_CA_CERT_PEM, SIMULATED_PCK_LEAF_CERT_PEM, SIMULATED_PCK_LEAF_KEY_PEM, SIMULATED_ROOT_CERT_PEM } from "./simulator/roots.js";
import { simulatedRegister } from "./simulator/quote.js";
import { SIMULATED_COMPOSE, createSimulatedNode } from "./simulator/report.js";
import { freshP256, privateKeyFromPem, signRaw } from "./simulator/sign.js";
import { verifyEvidence } from "./verify-evidence.js";
import { verifyAttestationReport } from "./verify.js";

const u16 = (v: number): Uint8Array => new Uint8Array([v & 0xff, (v >>> 8) & 0xff]);
const u32 = (v: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
};
const certData = (t: number, d: Uint8Array): Uint8Array => concatBytes(u16(t), u32(d.length), d);

interface QuoteKnobs {
  readonly tdAttributes?: Uint8Array;
  readonly qeMrSigner?: Uint8Array;
  readonly qeIsvProdId?: number;
  readonly qeAttributes?: Uint8Array;
  readonly reportData?: Uint8Array;
}

function quote(o: QuoteKnobs = {}): Uint8Array {
  const h = new Uint8Array(48);
  h.set(u16(4), 0);
  h.set(u16(2), 2);
  h.set(u32(0x81), 4);
  const b = new Uint8Array(TD_REPORT10_LEN);
  b.set(simulatedRegister("mrtd"), TD_OFFSETS.mrTd);
  if (o.tdAttributes) b.set(o.tdAttributes, TD_OFFSETS.tdAttributes);
  b.set(o.reportData ?? new Uint8Array(64), TD_OFFSETS.reportData);
  const att = freshP256();
  const signed = concatBytes(h, b);
  const qs = signRaw(att.privateKey, "sha256", signed);
  const auth = utf8.encode("auth");
  const qe = new Uint8Array(384);
  if (o.qeAttributes) qe.set(o.qeAttributes, 48); // SGX report ATTRIBUTES offset
  qe.set(o.qeMrSigner ?? fromHex(INTEL_TD_QE_MRSIGNER), 128); // MRSIGNER offset
  qe.set(u16(o.qeIsvProdId ?? INTEL_TD_QE_ISVPRODID), 256); // ISVPRODID offset
  qe.set(createHash("sha256").update(att.rawPublic).update(auth).digest(), 320);
  const qeSig = signRaw(privateKeyFromPem(SIMULATED_PCK_LEAF_KEY_PEM), "sha256", qe);
  const chain = utf8.encode(SIMULATED_PCK_LEAF_CERT_PEM + SIMULATED_PCK_CA_CERT_PEM + SIMULATED_ROOT_CERT_PEM);
  const sd = concatBytes(qs, att.rawPublic, certData(6, concatBytes(qe, qeSig, u16(auth.length), auth, certData(5, chain))));
  return concatBytes(signed, u32(sd.length), sd);
}

const roots = { trustedRootsPem: [SIMULATED_ROOT_CERT_PEM] };
const codes = (v: { errors: readonly { code: string }[] }): string[] => v.errors.map((e) => e.code);

describe("offline DCAP checks refuse debug TDs and non-Intel quoting enclaves", () => {
  it("accepts a well-formed quote from Intel's TD_QE (control)", () => {
    const v = verifyQuoteSignatures(quote(), roots);
    expect(codes(v)).toEqual([]);
    expect(v.verified).toBe(true);
  });

  it("rejects a debuggable TD without collateral (DEBUG_ENABLED)", async () => {
    const q = quote({ tdAttributes: new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]) });
    const v = verifyQuoteSignatures(q, roots);
    expect(v.verified).toBe(false);
    expect(codes(v)).toEqual(["DEBUG_ENABLED"]);
    const e = await verifyEvidence(q, { allowSimulated: true, acceptUnchecked: ["tcb"] });
    expect(e.verified).toBe(false);
    expect(codes(e)).toContain("DEBUG_ENABLED");
  });

  it("rejects a QE report from a non-Intel signer or product id (QE_IDENTITY_MISMATCH)", () => {
    const foreign = verifyQuoteSignatures(quote({ qeMrSigner: new Uint8Array(32).fill(0x41), qeIsvProdId: 0x99 }), roots);
    expect(foreign.verified).toBe(false);
    expect(codes(foreign)).toEqual(["QE_IDENTITY_MISMATCH"]);
    // The SGX QE's signer is Intel's too, but it is not the TD quoting enclave.
    const sgxSigner = verifyQuoteSignatures(quote({ qeMrSigner: fromHex(INTEL_QE_MRSIGNER) }), roots);
    expect(codes(sgxSigner)).toEqual(["QE_IDENTITY_MISMATCH"]);
    const wrongProd = verifyQuoteSignatures(quote({ qeIsvProdId: 1 }), roots);
    expect(codes(wrongProd)).toEqual(["QE_IDENTITY_MISMATCH"]);
  });

  it("rejects a debug quoting enclave (QE_IDENTITY_MISMATCH)", () => {
    const v = verifyQuoteSignatures(quote({ qeAttributes: new Uint8Array([0x02]) }), roots);
    expect(codes(v)).toEqual(["QE_IDENTITY_MISMATCH"]);
  });

  it("simulated quotes carry Intel's TD_QE identity and pass the same pin", async () => {
    const node = createSimulatedNode();
    const nonce = new Uint8Array(32).fill(3);
    const report = await node.report(nonce);
    const r = await verifyAttestationReport(JSON.parse(JSON.stringify(report)), { nonce: parseNonce(toHex(nonce)), allowSimulated: true });
    // The report carries simulated collateral, so the signed QE Identity (Intel's TD_QE) is checked.
    expect(r.checks.find((c) => c.name === "QE identity")?.ok).toBe(true);
    expect(r.verified).toBe(true);
    const bare = await verifyEvidence(fromHex(report.intel_quote ?? ""), { allowSimulated: true, acceptUnchecked: ["tcb"] });
    expect(bare.checks.find((c) => c.name === "QE is Intel's quoting enclave")?.ok).toBe(true);
  });
});

describe("verifyEvidence binds the caller's nonce for bare evidence", () => {
  const nonce = "11".repeat(32) as Nonce;

  it("rejects a bare DCAP quote whose report_data[32:64] is not the nonce (NONCE_MISMATCH)", async () => {
    const e = await verifyEvidence(quote({ reportData: new Uint8Array(64).fill(0x22) }), { allowSimulated: true, nonce, acceptUnchecked: ["tcb"] });
    expect(e.verified).toBe(false);
    expect(codes(e)).toEqual(["NONCE_MISMATCH"]);
  });

  it("accepts a bare DCAP quote that carries the nonce", async () => {
    const e = await verifyEvidence(quote({ reportData: concatBytes(new Uint8Array(32), fromHex(nonce)) }), { allowSimulated: true, nonce, acceptUnchecked: ["tcb"] });
    expect(codes(e)).toEqual([]);
    expect(e.checks.find((c) => c.name === "nonce")?.ok).toBe(true);
  });

  it("says the evidence may be a replay when no nonce is given", async () => {
    const e = await verifyEvidence(quote(), { allowSimulated: true, acceptUnchecked: ["tcb"] });
    const c = e.checks.find((x) => x.name === "nonce");
    expect(c?.skipped).toBe(true);
    expect(c?.detail).toMatch(/replay/);
    expect(e.unchecked.some((u) => u.startsWith("nonce:"))).toBe(true);
  });

  it("cloister verify --nonce fails a bare quote that does not carry the nonce", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cloister-review-"));
    const f = join(dir, "quote.bin");
    writeFileSync(f, quote({ reportData: new Uint8Array(64).fill(0x22) }));
    const out: string[] = [];
    const io: CliIO = { out: (t) => out.push(t), err: () => undefined, env: {}, cwd: process.cwd() };
    const rc = await main(["verify", f, "--nonce", nonce, "--allow-simulated", "--json"], io);
    expect(rc).not.toBe(0);
    expect(out.join("\n")).toContain("NONCE_MISMATCH");
  });

  const bundlePath = sharedPath("vectors/amd-sev-snp/attestation-bundle.json");
  describe.skipIf(!bundlePath)(`SEV-SNP${bundlePath ? "" : " (skipped: ../shared missing)"}`, () => {
    const now = new Date("2026-02-01T00:00:00Z");
    it("rejects an SEV-SNP bundle whose report_data does not carry the nonce", async () => {
      const bytes = new Uint8Array(readFileSync(bundlePath as string));
      const base = await verifyEvidence(bytes, { now, acceptUnchecked: ["tcb"] });
      expect(base.verified).toBe(true);
      expect(base.checks.find((c) => c.name === "nonce")?.skipped).toBe(true);
      const e = await verifyEvidence(bytes, { now, nonce, acceptUnchecked: ["tcb"] });
      expect(e.verified).toBe(false);
      expect(codes(e)).toEqual(["NONCE_MISMATCH"]);
      const own = (base.reportData ?? "").slice(64) as Nonce;
      expect((await verifyEvidence(bytes, { now, nonce: own, acceptUnchecked: ["tcb"] })).verified).toBe(true);
    });
  });
});

describe("RTMR3 app identity: a repeated identity event cannot override the measured one", () => {
  it("rejects a report whose RTMR3 records compose-hash twice, keeping the first", async () => {
    const evil = sha256(utf8.encode("services:\n  evil:\n    image: attacker/exfil\n"));
    const benign = sha256(utf8.encode(SIMULATED_COMPOSE));
    const node = createSimulatedNode({
      appEvents: [
        { event: "compose-hash", payload: evil },
        { event: "compose-hash", payload: benign }, // appended by the app at runtime
      ],
    });
    const nonceBytes = new Uint8Array(32).fill(7);
    const report = await node.report(nonceBytes);
    const policy = parsePolicy({ allowSimulated: true, measurements: { compose_hash: [toHex(benign)] } });
    const r = await verifyAttestationReport(JSON.parse(JSON.stringify(report)), { nonce: parseNonce(toHex(nonceBytes)), allowSimulated: true, policy });
    expect(r.appIdentity?.composeHash).toBe(toHex(evil));
    expect(r.verified).toBe(false);
    expect(codes(r)).toContain("EVENT_LOG_INVALID");
  });
});

describe("NEAR ed25519 signing key must be the one report_data binds", () => {
  const bound = new Uint8Array(32).fill(0x5a);
  const nonce = new Uint8Array(32).fill(9);
  const att = (extra: Record<string, unknown>): Record<string, unknown> => ({
    signing_address: toHex(bound),
    signing_algo: "ed25519",
    request_nonce: toHex(nonce),
    intel_quote: toHex(quote({ reportData: concatBytes(bound, nonce) })),
    event_log: [],
    ...extra,
  });
  const verify = (a: Record<string, unknown>): ReturnType<typeof verifyAttestationReport> =>
    verifyAttestationReport(a, { nonce: parseNonce(toHex(nonce)), allowSimulated: true, acceptUnchecked: ["tcb"] });

  it("rejects a signing_public_key that differs from the bound signing_address (SIGNING_KEY_MISMATCH)", async () => {
    const r = await verify(att({ signing_public_key: "ab".repeat(32) }));
    expect(r.verified).toBe(false);
    expect(codes(r)).toContain("SIGNING_KEY_MISMATCH");
  });

  it("accepts a signing_public_key equal to the bound signing_address", async () => {
    const r = await verify(att({ signing_public_key: toHex(bound) }));
    expect(codes(r)).toEqual([]);
    expect(r.signingPublicKey).toBe(toHex(bound));
  });

  it("rejects a signing_algo other than ecdsa or ed25519 (EVIDENCE_UNREADABLE)", async () => {
    await expect(verify(att({ signing_algo: "rsa" }))).rejects.toMatchObject({ code: "EVIDENCE_UNREADABLE", message: expect.stringMatching(/signing_algo/) });
  });
});

const intelDir = sharedPath("vectors", "intel-dcap");
describe.skipIf(!intelDir)(`the offline QE pin matches every genuine Intel quote${intelDir ? "" : " (skipped: ../shared missing)"}`, () => {
  const cases: readonly (readonly [string, string])[] = [
    ["intel-dcap/sgx_quote", "2025-07-01T00:00:00Z"],
    ["intel-dcap/tdx_quote", "2025-07-01T00:00:00Z"],
    ["intel-dcap/tdx_quote_outdated", "2026-03-01T00:00:00Z"],
    ["intel-dcap/near_quote_hex.txt", "2025-09-15T00:00:00Z"],
    ["intel-dcap/quote-from-tappd.hex", "2025-09-15T00:00:00Z"],
    ["intel-dcap/tdx-quote.hex", "2025-09-15T00:00:00Z"],
    ["google-tdx/quote_v5_sample.dat", "2025-09-15T00:00:00Z"],
    ["google-tdx/tdx_prod_quote_SPR_E4.dat", "2025-09-15T00:00:00Z"],
  ];
  for (const [file, at] of cases) {
    it(`passes the QE pin and debug check for ${file}`, () => {
      const raw = readFileSync(sharedPath("vectors", file) as string);
      const bytes = file.endsWith(".hex") || file.endsWith(".txt") ? fromHex(raw.toString("utf8").trim()) : new Uint8Array(raw);
      const v = verifyQuoteSignatures(bytes, { now: new Date(at) });
      expect(v.checks.find((c) => c.name === "QE is Intel's quoting enclave")?.ok).toBe(true);
      expect(v.checks.find((c) => c.name === "not debuggable")?.ok).toBe(true);
    });
  }
});
