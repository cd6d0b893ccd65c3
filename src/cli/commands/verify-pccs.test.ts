import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakePcs, type FakePcs } from "../../attest/intel/test-pcs-server.js";
import { GOOGLE_DIR, INTEL_DIR } from "../../attest/intel/test-vectors.js";
import type { CliIO } from "../io.js";
import { main } from "../main.js";

const have = Boolean(GOOGLE_DIR && INTEL_DIR);
const NOW = "1688083200"; // 2023-06-30: google-tdx's PCS responses are current

async function verify(dataDir: string, ...args: string[]) {
  const out: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => out.push(t), env: { CLOISTER_DATA_DIR: dataDir }, cwd: process.cwd() };
  const rc = await main(["verify", ...args, "--now", NOW, "--json"], io);
  return { rc, r: JSON.parse(out.join("")) as { tcbStatus: string | null; errors: { code: string }[]; checks: { name: string; ok: boolean; skipped?: boolean }[] } };
}

describe.skipIf(!have)(`cloister verify --pccs fetches and caches Intel collateral${have ? "" : " (skipped: ../shared missing)"}`, () => {
  let pcs: FakePcs;
  let dataDir = "";
  const quote = join(GOOGLE_DIR ?? "", "tdx_prod_quote_SPR_E4.dat");

  beforeAll(async () => {
    pcs = await startFakePcs({ tcbSigningValidAt: new Date(Number(NOW) * 1000) });
    dataDir = mkdtempSync(join(tmpdir(), "cloister-verify-pccs-"));
  });
  afterAll(async () => {
    await pcs.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("judges the TCB with fetched collateral, then answers from the cache", async () => {
    const first = await verify(dataDir, quote, "--pccs", pcs.url);
    expect(pcs.requests).toHaveLength(4);
    // The collateral was used: its signatures were checked, and this platform's SVNs are
    // below every TCB level of the 2023 sample (see docs/notes/attest-gaps.md).
    expect(first.r.checks.some((c) => c.name === "TCB Info signature" && c.ok)).toBe(true);
    expect(first.r.errors.map((e) => e.code)).toEqual(["TCB_LEVEL_NOT_FOUND"]);
    expect(first.rc).toBe(1);
    expect(readdirSync(join(dataDir, "collateral"))).toHaveLength(1);

    const second = await verify(dataDir, quote, "--pccs", pcs.url);
    expect(pcs.requests).toHaveLength(4);
    expect(second.r.errors).toEqual(first.r.errors);
  });

  it("reports a PCCS that fails as COLLATERAL_FETCH_FAILED, exit 1", async () => {
    const empty = mkdtempSync(join(tmpdir(), "cloister-verify-pccs-"));
    pcs.failWith404 = true;
    try {
      const run = await verify(empty, quote, "--pccs", pcs.url);
      expect(run.rc).toBe(1);
      expect(run.r.errors.map((e) => e.code)).toContain("COLLATERAL_FETCH_FAILED");
    } finally {
      pcs.failWith404 = false;
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("refuses a --pccs that is not an http(s) URL with exit 2", async () => {
    const run = await verify(dataDir, quote, "--pccs", "ftp://example");
    expect(run.rc).toBe(2);
  });
});
