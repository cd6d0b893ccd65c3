import { describe, expect, it } from "vitest";
import { AttestationError } from "../../errors.js";
import { parseSnpReport, SNP_REPORT_SIZE } from "./report.js";
import { decodeTcb, formatTcb, productFromCpuid } from "./tcb.js";
import { genoaSample } from "./test-vectors.js";

const genoa = genoaSample();

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
    expect.unreachable();
  } catch (e) {
    expect(e).toBeInstanceOf(AttestationError);
    expect((e as AttestationError).code).toBe(code);
  }
}

describe("SNP report parser", () => {
  it("rejects anything but 1184 bytes with QUOTE_MALFORMED", () => {
    expectCode(() => parseSnpReport(new Uint8Array(100)), "QUOTE_MALFORMED");
    expectCode(() => parseSnpReport(new Uint8Array(SNP_REPORT_SIZE + 1)), "QUOTE_MALFORMED");
  });

  it("rejects unknown report versions", () => {
    const r = new Uint8Array(SNP_REPORT_SIZE);
    r[0] = 9;
    expectCode(() => parseSnpReport(r), "QUOTE_VERSION_UNSUPPORTED");
  });

  it("rejects a signature component wider than 48 bytes", () => {
    const r = new Uint8Array(SNP_REPORT_SIZE);
    r[0] = 2;
    r[0x2a0 + 60] = 1;
    expectCode(() => parseSnpReport(r), "QUOTE_MALFORMED");
  });

  it("decodes TCB_VERSION per product (Turin moves every field)", () => {
    const raw = 0x54_00_00_00_17_00_00_0an; // ucode 0x54, byte 3 = 0x17, byte 0 = 10
    expect(formatTcb(decodeTcb(0x54_17_00_00_00_00_00_0an, "Genoa"))).toBe("bl10/tee0/snp23/ucode84");
    expect(decodeTcb(raw, "Turin")).toMatchObject({ fmc: 10, bootloader: 0, tee: 0, snp: 0x17, microcode: 0x54 });
    expect(productFromCpuid(0x19, 0x01)).toBe("Milan");
    expect(productFromCpuid(0x19, 0x11)).toBe("Genoa");
    expect(productFromCpuid(0x1a, 0x02)).toBe("Turin");
  });
});

describe.skipIf(!genoa)(`SNP report parser on the Genoa sample${genoa ? "" : " (skipped: ../shared missing)"}`, () => {
  it("reads every field at its ABI offset", () => {
    const r = parseSnpReport((genoa as NonNullable<typeof genoa>).report);
    expect(r.version).toBe(3);
    expect(r.policy.raw).toBe(0x30000n);
    expect(r.policy.debug).toBe(false);
    expect(r.policy.smt).toBe(true);
    expect(r.vmpl).toBe(0);
    expect(r.signatureAlgo).toBe(1);
    expect(r.signingKey).toBe("vcek");
    expect(r.cpuid).toEqual({ family: 0x19, model: 0x11, stepping: 1 });
    expect(r.product).toBe("Genoa");
    expect(Buffer.from(r.measurement).toString("hex")).toBe("09ef32acf90fcfeb6206d1a46c13145cef736ebbb83f18eaff680b686232031546ff5fd39c44599699ee8734cbbeb519");
    expect(formatTcb(r.reportedTcb)).toBe("bl10/tee0/snp23/ucode84");
    expect(r.signatureR).toHaveLength(48);
    expect(r.signedBytes).toHaveLength(0x2a0);
  });
});
