import { createPrivateKey, generateKeyPairSync, sign, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { checkCrl, parseCrl } from "./crl.js";
import { certParts } from "./der.js";
import { AMD_SNP_ROOTS } from "./roots.js";

// Minimal DER encoder for building test CRLs (X.690 definite-length encoding).
function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(content);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}
const seq = (...c: Uint8Array[]): Uint8Array => tlv(0x30, ...c);
const int = (hex: string): Uint8Array => tlv(0x02, Buffer.from(hex, "hex"));
const utc = (d: Date): Uint8Array => tlv(0x17, Buffer.from(d.toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z"));
// ecdsa-with-SHA384, 1.2.840.10045.4.3.3
const ecdsaSha384 = seq(Buffer.from("06082a8648ce3d040303", "hex"));

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-384" });
const other = generateKeyPairSync("ec", { namedCurve: "P-384" });
const ark = new X509Certificate(AMD_SNP_ROOTS[1]?.arkPem ?? "");
const arkName = certParts(ark.raw)?.subjectDer ?? new Uint8Array();
const thisUpdate = new Date("2026-01-01T00:00:00Z");
const nextUpdate = new Date("2026-12-31T00:00:00Z");

function makeCrl(serials: string[], key = privateKey, issuer = arkName): Uint8Array {
  const entries = serials.map((s) => seq(int(s), utc(thisUpdate)));
  const tbs = seq(int("01"), ecdsaSha384, issuer, utc(thisUpdate), utc(nextUpdate), ...(entries.length ? [seq(...entries)] : []));
  const sig = sign("sha384", tbs, createPrivateKey(key.export({ format: "pem", type: "pkcs8" })));
  return seq(tbs, ecdsaSha384, tlv(0x03, Buffer.from([0]), sig));
}

const issuer = { key: publicKey, subjectDer: arkName };
const now = new Date("2026-06-01T00:00:00Z");

describe("SNP CRL checks", () => {
  it("parses the revoked serials and dates", () => {
    const crl = parseCrl(makeCrl(["0A", "00ff01"]));
    expect(crl?.revokedSerials).toEqual(["0A", "FF01"]);
    expect(crl?.nextUpdate?.toISOString()).toBe(nextUpdate.toISOString());
  });

  it("reports CERT_REVOKED when a chain certificate's serial is listed", () => {
    expect(checkCrl(makeCrl(["0A", "FF01"]), issuer, ["ff01"], now)?.code).toBe("CERT_REVOKED");
  });

  it("passes a valid CRL that lists none of the serials", () => {
    expect(checkCrl(makeCrl(["0A"]), issuer, ["0B", "0C"], now)).toBeNull();
    expect(checkCrl(makeCrl([]), issuer, ["0B"], now)).toBeNull();
  });

  it("reports CRL_INVALID for a CRL signed by another key or naming another issuer", () => {
    expect(checkCrl(makeCrl(["0A"], other.privateKey), issuer, ["0A"], now)?.code).toBe("CRL_INVALID");
    const wrongName = certParts(new X509Certificate(AMD_SNP_ROOTS[0]?.arkPem ?? "").raw)?.subjectDer ?? new Uint8Array();
    expect(checkCrl(makeCrl(["0A"], privateKey, wrongName), issuer, ["0A"], now)?.code).toBe("CRL_INVALID");
  });

  it("reports CRL_STALE after nextUpdate", () => {
    expect(checkCrl(makeCrl(["0A"]), issuer, ["0A"], new Date("2027-02-01T00:00:00Z"))?.code).toBe("CRL_STALE");
  });

  it("reports CRL_INVALID for bytes that are not a CRL", () => {
    expect(checkCrl(new Uint8Array([1, 2, 3]), issuer, [], now)?.code).toBe("CRL_INVALID");
  });
});
