import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AttestationError } from "../../errors.js";
import type { Measurement } from "../../types.js";
import { sharedPath } from "../../util/shared.js";
import type { Verification } from "../types.js";
import { applyPolicy, parsePolicy } from "./index.js";

const m = (s: string): Measurement => s as Measurement;

function verification(over: Partial<Verification> = {}): Verification {
  return {
    verified: true,
    tee: "tdx",
    simulated: false,
    tcbStatus: "UpToDate",
    advisories: [],
    measurements: { mrtd: m("aa"), rtmr3: m("bb") },
    reportData: null,
    checks: [],
    errors: [],
    ...over,
  };
}

const codes = (v: Verification): string[] => v.errors.map((e) => e.code);

describe("policy", () => {
  it("refuses an unknown key so a typo cannot weaken a policy", () => {
    expect(() => parsePolicy({ measurments: {} })).toThrow(AttestationError);
    expect(() => parsePolicy({ measurements: { mrtd: ["zz"] } })).toThrow(expect.objectContaining({ code: "POLICY_INVALID" }));
  });

  it("accepts listed measurements and rejects an unlisted one", () => {
    expect(applyPolicy(verification(), parsePolicy({ measurements: { mrtd: ["AA"] } })).verified).toBe(true);
    const bad = applyPolicy(verification(), parsePolicy({ measurements: { mrtd: ["cc"], rtmr3: ["bb"] } }));
    expect(bad.verified).toBe(false);
    expect(codes(bad)).toEqual(["MEASUREMENT_NOT_ALLOWED"]);
  });

  it("flags a policy register the evidence lacks as a violation", () => {
    expect(codes(applyPolicy(verification(), parsePolicy({ measurements: { measurement: ["aa"] } })))).toEqual(["POLICY_VIOLATION"]);
  });

  it("applies TCB statuses (default UpToDate) and skips them when unknown unless required", () => {
    expect(codes(applyPolicy(verification({ tcbStatus: "OutOfDate" }), parsePolicy({})))).toEqual(["TCB_STATUS_NOT_ALLOWED"]);
    expect(applyPolicy(verification({ tcbStatus: "OutOfDate" }), parsePolicy({ tcbStatuses: ["OutOfDate"] })).verified).toBe(true);
    expect(applyPolicy(verification({ tcbStatus: null }), parsePolicy({})).verified).toBe(true);
    expect(codes(applyPolicy(verification({ tcbStatus: null }), parsePolicy({ requireTcbStatus: true })))).toEqual(["TCB_STATUS_NOT_ALLOWED"]);
  });

  it("rejects simulated evidence unless allowed", () => {
    const sim = verification({ simulated: true, tcbStatus: null, tee: "simulated" });
    expect(codes(applyPolicy(sim, parsePolicy({})))).toEqual(["SIMULATED_NOT_ALLOWED"]);
    expect(applyPolicy(sim, parsePolicy({ allowSimulated: true })).verified).toBe(true);
    expect(applyPolicy(sim, parsePolicy({}), { allowSimulated: true }).verified).toBe(true);
  });

  it("parses snp.maxVmpl (0..3) and snp.allowMigrationAgent, refusing anything else", () => {
    expect(parsePolicy({ snp: { maxVmpl: 1, allowMigrationAgent: true } }).snp).toEqual({ maxVmpl: 1, allowMigrationAgent: true });
    expect(parsePolicy({}).snp).toBeUndefined();
    expect(() => parsePolicy({ snp: { maxVmpl: 4 } })).toThrow(expect.objectContaining({ code: "POLICY_INVALID" }));
    expect(() => parsePolicy({ snp: { maxVmpl: 1.5 } })).toThrow(expect.objectContaining({ code: "POLICY_INVALID" }));
    expect(() => parsePolicy({ snp: { maxVMPL: 1 } })).toThrow(expect.objectContaining({ code: "POLICY_INVALID" }));
    expect(() => parsePolicy({ snp: { allowMigrationAgent: "yes" } })).toThrow(expect.objectContaining({ code: "POLICY_INVALID" }));
  });

  it("requires GPU evidence when the policy says so", () => {
    expect(codes(applyPolicy(verification(), parsePolicy({ gpu: { required: true } })))).toEqual(["POLICY_VIOLATION"]);
    expect(applyPolicy(verification({ measurements: { "gpu0.m1": m("01") } }), parsePolicy({ gpu: { required: true } })).verified).toBe(true);
  });
});

const snpBundle = sharedPath("vectors", "amd-sev-snp", "attestation-bundle.json");
const SNP_MEASUREMENT = "09ef32acf90fcfeb6206d1a46c13145cef736ebbb83f18eaff680b686232031546ff5fd39c44599699ee8734cbbeb519";
const IDENTITY = {
  subjectAlternativeName: "https://github.com/tinfoilsh/confidential-model-router/.github/workflows/build.yml@refs/tags/v0.0.38",
  issuer: "https://token.actions.githubusercontent.com",
};

describe.skipIf(!snpBundle)(`sigstore release binding${snpBundle ? "" : " (skipped: ../shared/vectors/amd-sev-snp missing)"}`, () => {
  const bundle = (): Record<string, unknown> => (JSON.parse(readFileSync(snpBundle!, "utf8")) as { sigstoreBundle: Record<string, unknown> }).sigstoreBundle;
  const snp = verification({ tee: "sev-snp", tcbStatus: null, measurements: { measurement: m(SNP_MEASUREMENT) } });

  it("verifies a real DSSE bundle offline and matches the SNP measurement", () => {
    const v = applyPolicy(snp, parsePolicy({ sigstore: { bundle: bundle(), identity: IDENTITY } }));
    expect(v.errors).toEqual([]);
    expect(v.checks.some((c) => c.name === "policy: measurement is the signed release's" && c.ok)).toBe(true);
  });

  it("rejects a measurement the release did not sign", () => {
    const other = verification({ tee: "sev-snp", tcbStatus: null, measurements: { measurement: m("00".repeat(48)) } });
    expect(codes(applyPolicy(other, parsePolicy({ sigstore: { bundle: bundle(), identity: IDENTITY } })))).toEqual(["MEASUREMENT_NOT_ALLOWED"]);
  });

  it("rejects a tampered bundle as SIGSTORE_INVALID", () => {
    const b = bundle() as { dsseEnvelope: { payload: string } };
    const payload = Buffer.from(b.dsseEnvelope.payload, "base64").toString("utf8").replace(SNP_MEASUREMENT, "00".repeat(48));
    b.dsseEnvelope.payload = Buffer.from(payload).toString("base64");
    expect(codes(applyPolicy(snp, parsePolicy({ sigstore: { bundle: b, identity: IDENTITY } })))).toEqual(["SIGSTORE_INVALID"]);
  });

  it("rejects a bundle signed by another identity", () => {
    const v = applyPolicy(snp, parsePolicy({ sigstore: { bundle: bundle(), identity: { subjectAlternativeName: "https://github.com/someone/else" } } }));
    expect(codes(v)).toEqual(["SIGSTORE_INVALID"]);
  });
});
