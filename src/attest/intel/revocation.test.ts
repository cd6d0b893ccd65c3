import { describe, expect, it } from "vitest";
import { AttestationError } from "../../errors.js";
import { parsePemChain } from "./certs.js";
import { parseCrl, serialHex, type Crl } from "./crl.js";
import { parseQuote } from "./parse-quote.js";
import { INTEL_DIR, intelCollateral, intelFile } from "./test-vectors.js";
import { checkRevocation } from "./verify-dcap.js";

describe.skipIf(!INTEL_DIR)(`PCK revocation${INTEL_DIR ? "" : " (skipped: ../shared missing)"}`, () => {
  const setup = () => {
    const [leaf, ca] = parsePemChain(parseQuote(intelFile("tdx_quote")).signatureData.certification.pckChainPem, "PCK chain");
    const col = intelCollateral("tdx_quote_collateral.json");
    const pck = parseCrl(Buffer.from(col.pck_crl, "hex"), "PCK CRL");
    const root = parseCrl(Buffer.from(col.root_ca_crl, "hex"), "root CRL");
    if (!leaf || !ca) throw new Error("chain too short");
    return { leaf, ca, pck, root };
  };
  const codeOf = (fn: () => void): string => {
    try {
      fn();
      return "no error";
    } catch (e) {
      return e instanceof AttestationError ? e.code : "other";
    }
  };

  it("reads the genuine PCK CRL's revoked serials and finds the quote's PCK not revoked", () => {
    const { leaf, ca, pck, root } = setup();
    expect(pck.revoked.size).toBeGreaterThan(10);
    expect(codeOf(() => checkRevocation({ pck, root, pckIssuer: ca }, leaf, ca))).toBe("no error");
  });

  it("rejects a PCK certificate whose serial is on the PCK CRL as CERT_REVOKED", () => {
    const { leaf, ca, pck, root } = setup();
    const revoked: Crl = { ...pck, revoked: new Set([...pck.revoked, serialHex(Buffer.from(leaf.serialNumber, "hex"))]) };
    expect(codeOf(() => checkRevocation({ pck: revoked, root, pckIssuer: ca }, leaf, ca))).toBe("CERT_REVOKED");
  });

  it("rejects a PCK CA whose serial is on the root CA CRL as CERT_REVOKED", () => {
    const { leaf, ca, pck, root } = setup();
    const revoked: Crl = { ...root, revoked: new Set([serialHex(Buffer.from(ca.serialNumber, "hex"))]) };
    expect(codeOf(() => checkRevocation({ pck, root: revoked, pckIssuer: ca }, leaf, ca))).toBe("CERT_REVOKED");
  });

  it("rejects a PCK CRL issued by another CA as CRL_INVALID", () => {
    const { leaf, ca, pck, root } = setup();
    expect(codeOf(() => checkRevocation({ pck, root, pckIssuer: leaf }, leaf, ca))).toBe("CRL_INVALID");
  });
});
