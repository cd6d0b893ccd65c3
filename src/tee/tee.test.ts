import { mkdtempSync, readFileSync } from "node:fs";
import * as fsp from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sharedPath } from "../util/shared.js";
import { createConfigfsTsmProvider, type TsmFs } from "./configfs-tsm.js";
import { createDstackProvider } from "./dstack.js";
import { selectTeeProvider } from "./select.js";
import { parseSnpCertTable } from "./snp-certs.js";

/** Emulates the kernel's side of configfs-tsm over a real temp dir: mkdir populates the entry, inblob writes bump generation. */
function fakeKernel(provider: string, opts: { concurrentWriter?: boolean; aux?: Uint8Array } = {}): TsmFs {
  return {
    async mkdir(p) {
      await fsp.mkdir(p);
      await fsp.writeFile(join(p, "generation"), "0\n");
      await fsp.writeFile(join(p, "provider"), `${provider}\n`);
      if (opts.aux) await fsp.writeFile(join(p, "auxblob"), opts.aux);
    },
    rmdir: (p) => fsp.rm(p, { recursive: true }),
    readFile: (p) => fsp.readFile(p),
    async writeFile(p, d) {
      await fsp.writeFile(p, d);
      const dir = join(p, "..");
      const gen = Number(await fsp.readFile(join(dir, "generation"), "utf8"));
      await fsp.writeFile(join(dir, "generation"), `${gen + (opts.concurrentWriter ? 2 : 1)}\n`);
      await fsp.writeFile(join(dir, "outblob"), Buffer.concat([Buffer.from("QUOTE:"), Buffer.from(d)]));
    },
  };
}

describe("configfs-tsm provider", () => {
  const base = mkdtempSync(join(tmpdir(), "tsm-"));
  const rd = new Uint8Array(64).map((_, i) => i);

  it("writes report_data to inblob, returns outblob as a TDX quote and removes its entry", async () => {
    const p = createConfigfsTsmProvider({ basePath: base, fs: fakeKernel("tdx_guest"), ccelPath: join(base, "no-ccel") });
    const q = await p.getQuote(rd);
    expect(q.tee).toBe("tdx");
    expect(q.simulated).toBe(false);
    expect(Buffer.from(q.quote).subarray(6)).toEqual(Buffer.from(rd));
    expect(await fsp.readdir(base)).toEqual([]);
  });

  it("refuses an outblob when another writer changed the entry (generation check)", async () => {
    const p = createConfigfsTsmProvider({ basePath: base, fs: fakeKernel("tdx_guest", { concurrentWriter: true }) });
    await expect(p.getQuote(rd)).rejects.toMatchObject({ code: "TEE_CONCURRENT_WRITE" });
  });

  it("reads an SEV-SNP report with its certificate table as a PEM chain, leaf first", async () => {
    const vcek = new Uint8Array([0x30, 1, 2]);
    const ark = new Uint8Array([0x30, 9]);
    // GUID table: VCEK, ARK, terminator; then the DER blobs.
    const guid = (s: string): Buffer => {
      const h = s.replace(/-/g, "");
      const b = Buffer.from(h, "hex");
      return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
    };
    const entry = (g: string, off: number, len: number): Buffer => {
      const e = Buffer.alloc(24);
      guid(g).copy(e, 0);
      e.writeUInt32LE(off, 16);
      e.writeUInt32LE(len, 20);
      return e;
    };
    const aux = Buffer.concat([entry("c0b406a4-a803-4952-9743-3fb6014cd0ae", 72, 2), entry("63da758d-e664-4564-adc5-f4b93be8accd", 74, 3), Buffer.alloc(24), Buffer.from(ark), Buffer.from(vcek)]);
    const p = createConfigfsTsmProvider({ basePath: base, fs: fakeKernel("sev_guest", { aux }) });
    const q = await p.getQuote(rd);
    expect(q.tee).toBe("sev-snp");
    const pems = (q.certChain ?? "").split("-----END CERTIFICATE-----\n").filter(Boolean);
    expect(pems).toHaveLength(2);
    expect(pems[0]).toContain(Buffer.from(vcek).toString("base64"));
    expect(pems[1]).toContain(Buffer.from(ark).toString("base64"));
    expect(parseSnpCertTable(new Uint8Array(24))).toBeNull();
  });

  it("refuses report_data that is not 64 bytes", async () => {
    const p = createConfigfsTsmProvider({ basePath: base, fs: fakeKernel("tdx_guest") });
    await expect(p.getQuote(new Uint8Array(32))).rejects.toMatchObject({ code: "QUOTE_REQUEST_INVALID" });
  });
});

const vector = sharedPath("vectors", "dstack", "tdx-lite-getquote.json");
describe.skipIf(!vector)(`dstack guest agent provider${vector ? "" : " (skipped: ../shared missing)"}`, () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  it("asks GetQuote over the unix socket with our report_data and parses quote and event log", async () => {
    const capture = JSON.parse(readFileSync(vector as string, "utf8"));
    const socketPath = join(mkdtempSync(join(tmpdir(), "dstack-")), "dstack.sock");
    let asked: { path?: string; body?: unknown } = {};
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        asked = { path: req.url ?? "", body: JSON.parse(body) };
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(capture));
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(socketPath, r));
    const rd = new Uint8Array(64).fill(7);
    const q = await createDstackProvider({ socketPath }).getQuote(rd);
    expect(asked.path).toBe("/GetQuote");
    expect(asked.body).toEqual({ report_data: "07".repeat(64) });
    expect(Buffer.from(q.quote).toString("hex")).toBe(capture.quote);
    expect(q.tee).toBe("tdx");
    expect(q.eventLog.length).toBe(JSON.parse(capture.event_log).length);
    expect(q.eventLog[0]?.imr).toBe(0);
  });
});

describe("TEE selection", () => {
  it("falls back to the simulator off-TEE and refuses explicit hardware that is absent", async () => {
    const missing = join(tmpdir(), "definitely-not-here");
    const p = await selectTeeProvider("auto", { tsmPath: missing, dstackSocket: missing });
    expect(p.simulated).toBe(true);
    await expect(selectTeeProvider("tdx", { tsmPath: missing })).rejects.toThrow(/simulated/);
    await expect(selectTeeProvider("dstack", { dstackSocket: missing })).rejects.toMatchObject({ name: "ConfigError", code: "TEE_NOT_FOUND", message: expect.stringMatching(/guest agent socket at .*definitely-not-here/) });
  });

  it("refuses --tee tdx on an SEV-SNP guest and --tee sev-snp on a TDX guest (configfs-tsm provider)", async () => {
    const base = mkdtempSync(join(tmpdir(), "tsm-sel-"));
    await expect(selectTeeProvider("tdx", { tsmPath: base, tsmFs: fakeKernel("sev_guest") })).rejects.toMatchObject({
      name: "ConfigError",
      code: "TEE_MISMATCH",
      message: expect.stringMatching(/"tdx_guest" but this machine's is "sev_guest".*sev-snp/),
    });
    await expect(selectTeeProvider("sev-snp", { tsmPath: base, tsmFs: fakeKernel("tdx_guest") })).rejects.toMatchObject({ code: "TEE_MISMATCH" });
    // The probe entry is removed again.
    expect(await fsp.readdir(base)).toEqual([]);
  });

  it("auto uses configfs-tsm when its provider is known, and refuses to start on one it cannot use", async () => {
    const base = mkdtempSync(join(tmpdir(), "tsm-auto-"));
    const missing = join(tmpdir(), "definitely-not-here");
    expect((await selectTeeProvider("auto", { tsmPath: base, dstackSocket: missing, tsmFs: fakeKernel("sev_guest") })).name).toBe("configfs-tsm");
    await expect(selectTeeProvider("auto", { tsmPath: base, dstackSocket: missing, tsmFs: fakeKernel("arm_cca_guest") })).rejects.toMatchObject({ name: "ConfigError", code: "TEE_MISMATCH" });
    const noEntries: TsmFs = { ...fakeKernel("tdx_guest"), mkdir: async () => Promise.reject(Object.assign(new Error("EACCES"), { code: "EACCES" })) };
    await expect(selectTeeProvider("auto", { tsmPath: base, dstackSocket: missing, tsmFs: noEntries })).rejects.toMatchObject({ name: "ConfigError", code: "TEE_NOT_FOUND" });
  });

  it("accepts the matching provider and returns a working configfs-tsm provider", async () => {
    const base = mkdtempSync(join(tmpdir(), "tsm-sel-"));
    const tdx = await selectTeeProvider("tdx", { tsmPath: base, tsmFs: fakeKernel("tdx_guest") });
    expect(tdx.name).toBe("configfs-tsm");
    expect((await tdx.getQuote(new Uint8Array(64))).tee).toBe("tdx");
    const snp = await selectTeeProvider("sev-snp", { tsmPath: base, tsmFs: fakeKernel("sev_guest") });
    expect((await snp.getQuote(new Uint8Array(64))).tee).toBe("sev-snp");
  });
});
