/**
 * Issue 7, item 13 (attest side): tests that fail when one security check is removed. Each
 * was proven by disabling the check and watching the test fail (docs/notes/attest-fail-closed.md).
 *  - the CPU-side rejection of a simulated quote, with no simulated GPU payload beside it;
 *  - the QE Identity's MRSIGNER comparison with collateral (our own check decides wherever
 *    dcap-qvl does not run: v5 / TD 1.5 quotes, and the simulated path used here);
 *  - PCESVN in the TCB level match;
 *  - the SEV-SNP VCEK <-> CHIP_ID binding;
 *  - the NRAS token's issuer.
 */
import { createHash, createPrivateKey, sign as cryptoSign } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { parseNonce } from "../types.js";
import { toHex } from "../util/bytes.js";
import { verifyDcapQuote } from "./intel/verify-dcap.js";
import { NRAS_ISSUER, verifyNrasResponse } from "./nvidia/nras.js";
import { buildSimulatedCollateral } from "./simulator/collateral.js";
import { createSimulatorProvider } from "./simulator/provider.js";
import { createSimulatedNode } from "./simulator/report.js";
import { SIMULATED_QUOTE_ROOTS_PEM } from "./simulator/roots.js";
import { genoaSample } from "./snp/test-vectors.js";
import { TEST_ARK_PEM, TEST_ASK_PEM, TEST_VCEK_KEY_PEM, TEST_VCEK_OTHER_CHIP_PEM, TEST_VCEK_OWN_CHIP_PEM } from "./snp/test-chain.js";
import { verifySnpReport } from "./snp/verify.js";
import { verifyEvidence } from "./verify-evidence.js";
import { verifyAttestationReport } from "./verify.js";

const codes = (v: { errors: readonly { code: string }[] }): string[] => [...new Set(v.errors.map((e) => e.code))].sort();

describe("a simulated CPU quote is refused on its own (no simulated GPU payload beside it)", () => {
  const NONCE = new Uint8Array(32).fill(0x51);

  it("a report with no GPU evidence: SIMULATED_NOT_ALLOWED from the quote check itself", async () => {
    const r = await createSimulatedNode({ gpu: false }).report(NONCE);
    expect(r.nvidia_payload).toBeNull();
    const v = await verifyAttestationReport(JSON.parse(JSON.stringify(r)), { nonce: parseNonce(toHex(NONCE)) });
    expect(v.verified).toBe(false);
    expect(v.simulated).toBe(true);
    // The CPU side's own refusal, not the GPU's and not a later policy pass.
    expect(v.checks.find((c) => c.name === "not simulated")).toMatchObject({ ok: false, code: "SIMULATED_NOT_ALLOWED" });
    expect(v.checks.some((c) => c.name.startsWith("GPU") && c.code === "SIMULATED_NOT_ALLOWED")).toBe(false);
    expect((await verifyAttestationReport(JSON.parse(JSON.stringify(r)), { nonce: parseNonce(toHex(NONCE)), allowSimulated: true })).verified).toBe(true);
  });

  it("a bare simulated quote with simulated collateral: SIMULATED_NOT_ALLOWED", async () => {
    const { quote } = await createSimulatorProvider({ gpu: false }).getQuote(new Uint8Array(64));
    const v = await verifyEvidence(quote, { collateral: buildSimulatedCollateral() });
    expect(codes(v)).toEqual(["SIMULATED_NOT_ALLOWED"]);
    expect(v.checks.find((c) => c.name === "not simulated")?.code).toBe("SIMULATED_NOT_ALLOWED");
  });
});

describe("DCAP checks our own code is the only one to make", () => {
  const dcap = async (edit: Parameters<typeof buildSimulatedCollateral>[0]) => {
    const { quote } = await createSimulatorProvider({ gpu: false }).getQuote(new Uint8Array(64));
    return verifyDcapQuote(quote, { collateral: buildSimulatedCollateral(edit), now: new Date(), trustedRootsPem: SIMULATED_QUOTE_ROOTS_PEM });
  };

  it("control: the simulated quote and collateral are UpToDate", async () => {
    const v = await dcap({});
    expect([v.errors, v.tcbStatus]).toEqual([[], "UpToDate"]);
  });

  it("a QE whose MRSIGNER is not the signed QE Identity's: QE_IDENTITY_MISMATCH", async () => {
    const v = await dcap({ edit: { qeIdentity: (o) => ({ ...o, mrsigner: "AB".repeat(32) }) } });
    expect(codes(v)).toEqual(["QE_IDENTITY_MISMATCH"]);
    expect(v.checks.find((c) => c.name === "QE identity")?.detail).toMatch(/MRSIGNER/);
  });

  it("PCESVN below the level's: that level does not fit, the platform is rated by the older one", async () => {
    // Newest level needs PCESVN 14 (the PCK certificate says 13); the next one is OutOfDate.
    const v = await dcap({
      edit: {
        tcbInfo: (o) => {
          const [level] = o["tcbLevels"] as Record<string, unknown>[];
          const tcb = (level?.["tcb"] ?? {}) as Record<string, unknown>;
          return { ...o, tcbLevels: [{ ...level, tcb: { ...tcb, pcesvn: 14 }, tcbStatus: "UpToDate" }, { ...level, tcb: { ...tcb, pcesvn: 13 }, tcbStatus: "OutOfDate" }] };
        },
      },
    });
    expect(v.tcbStatus).toBe("OutOfDate");
  });
});

const genoa = genoaSample();
describe.skipIf(!genoa)(`SEV-SNP: the VCEK must be the report's chip's (CHIP_ID)${genoa ? "" : " (skipped: ../shared missing)"}`, () => {
  const when = new Date("2026-07-01T00:00:00Z");
  const roots = [{ product: "Genoa" as const, arkPem: TEST_ARK_PEM, askPem: TEST_ASK_PEM, asvkPem: null, arkSha256: "" }];
  /** The genuine Genoa report, re-signed by the TEST VCEK key (same key in both certificates). */
  const resigned = (): Uint8Array => {
    const r = (genoa as NonNullable<typeof genoa>).report.slice();
    const sig = cryptoSign("sha384", r.subarray(0, 0x2a0), { key: createPrivateKey(TEST_VCEK_KEY_PEM), dsaEncoding: "ieee-p1363" });
    const le = (b: Uint8Array): Uint8Array => {
      const out = new Uint8Array(72);
      out.set(Uint8Array.from(b).reverse());
      return out;
    };
    r.set(le(sig.subarray(0, 48)), 0x2a0);
    r.set(le(sig.subarray(48, 96)), 0x2a0 + 72);
    return r;
  };

  it("control: the VCEK issued for this CHIP_ID verifies", () => {
    const v = verifySnpReport(resigned(), { vcekPem: TEST_VCEK_OWN_CHIP_PEM, roots, now: when });
    expect(v.errors).toEqual([]);
  });

  it("another chip's VCEK, same TCB, valid signature: VCEK_MISMATCH on the chip check alone", () => {
    const v = verifySnpReport(resigned(), { vcekPem: TEST_VCEK_OTHER_CHIP_PEM, roots, now: when });
    expect(codes(v)).toEqual(["VCEK_MISMATCH"]);
    expect(v.checks.find((c) => c.code === "VCEK_MISMATCH")?.name).toBe("key chip = CHIP_ID");
  });
});

describe("NRAS: tokens must be issued by NVIDIA's NRAS", () => {
  const NONCE = "ab".repeat(32);
  async function body(iss: string) {
    const { privateKey, publicKey } = await generateKeyPair("ES384");
    const jwk = { ...(await exportJWK(publicKey)), kid: "test-key", alg: "ES384" };
    const now = Math.floor(Date.now() / 1000);
    const sign = (claims: Record<string, unknown>): Promise<string> =>
      new SignJWT(claims).setProtectedHeader({ alg: "ES384", kid: "test-key" }).setIssuer(iss).setIssuedAt(now).setExpirationTime(now + 3600).sign(privateKey);
    const gpu = await sign({ eat_nonce: NONCE, measres: "success", secboot: true, dbgstat: "disabled" });
    const digest = createHash("sha256").update(gpu).digest("hex");
    const overall = await sign({ eat_nonce: NONCE, "x-nvidia-overall-att-result": true, submods: { "GPU-0": ["DIGEST", ["SHA-256", digest]] } });
    return { body: [["JWT", overall], { "GPU-0": gpu }], jwks: { keys: [jwk] } };
  }

  it("control: tokens from NRAS's issuer, signed by a key in the JWKS, verify", async () => {
    const b = await body(NRAS_ISSUER);
    expect((await verifyNrasResponse(b.body, { jwks: b.jwks, now: new Date(), expectedNonce: NONCE })).errors).toEqual([]);
  });

  it("the same tokens from another issuer: JWT_INVALID", async () => {
    const b = await body("https://nras.attacker.example");
    const v = await verifyNrasResponse(b.body, { jwks: b.jwks, now: new Date(), expectedNonce: NONCE });
    expect(codes(v)).toEqual(["JWT_INVALID"]);
    expect(v.errors.some((e) => /iss/.test(e.message))).toBe(true);
  });
});

