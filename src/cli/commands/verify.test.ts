import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatedNode } from "../../attest/simulator/report.js";
import { fromHex } from "../../util/bytes.js";
import { sharedPath } from "../../util/shared.js";
import type { CliIO } from "../io.js";
import { main } from "../main.js";

interface Run {
  readonly rc: number;
  readonly out: string;
  readonly err: string;
}

async function cli(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => out.push(t), err: (t) => err.push(t), env: {}, cwd: process.cwd() };
  const rc = await main(["verify", ...args], io);
  return { rc, out: out.join("\n"), err: err.join("\n") };
}

interface JsonResult {
  verified: boolean;
  tee: string;
  simulated: boolean;
  tcbStatus: string | null;
  advisories: string[];
  measurements: Record<string, string>;
  reportData: string | null;
  errors: { code: string; message: string }[];
}

async function json(...args: string[]): Promise<{ rc: number; r: JsonResult }> {
  const run = await cli(...args, "--json");
  expect(run.out.split("\n").length).toBe(1); // exactly one object
  return { rc: run.rc, r: JSON.parse(run.out) as JsonResult };
}

const errorCodes = (r: JsonResult): string[] => [...new Set(r.errors.map((e) => e.code))];
const dir = mkdtempSync(join(tmpdir(), "cloister-verify-"));
const NONCE = "42".repeat(32);

describe("cloister verify (simulated evidence, no ../shared needed)", () => {
  let reportFile = "";
  let composeHash = "";
  beforeAll(async () => {
    const report = await createSimulatedNode().report(fromHex(NONCE));
    composeHash = report.info.compose_hash ?? "";
    reportFile = join(dir, "simulated-report.json");
    writeFileSync(reportFile, JSON.stringify(report));
  });

  it("rejects a simulated report without --allow-simulated and says SIMULATED on the first line", async () => {
    const { rc, r } = await json(reportFile, "--nonce", NONCE);
    expect(rc).toBe(1);
    expect(r.tee).toBe("simulated");
    expect(errorCodes(r)).toEqual(["SIMULATED_NOT_ALLOWED"]);
    const text = await cli(reportFile, "--nonce", NONCE);
    expect(text.out.split("\n")[0]).toContain("SIMULATED");
    expect(text.out).toMatch(/^✗ SIMULATED_NOT_ALLOWED /m);
  });

  it("accepts it with --allow-simulated, one line per check", async () => {
    const { rc, r } = await json(reportFile, "--nonce", NONCE, "--allow-simulated");
    expect(rc).toBe(0);
    expect(r.verified).toBe(true);
    expect(r.simulated).toBe(true);
    expect(r.measurements["rtmr3"]).toMatch(/^[0-9a-f]{96}$/);
    expect(r.reportData?.endsWith(NONCE)).toBe(true);
    const text = await cli(reportFile, "--nonce", NONCE, "--allow-simulated");
    expect(text.rc).toBe(0);
    expect(text.out).toMatch(/^✓ report_data binding \(v1\)/m);
  });

  it("rejects a wrong --nonce with NONCE_MISMATCH", async () => {
    const { rc, r } = await json(reportFile, "--nonce", "11".repeat(32), "--allow-simulated");
    expect(rc).toBe(1);
    expect(errorCodes(r)).toContain("NONCE_MISMATCH");
  });

  it("applies --policy: an unlisted measurement is MEASUREMENT_NOT_ALLOWED, a listed one passes", async () => {
    const bad = join(dir, "bad-policy.json");
    writeFileSync(bad, JSON.stringify({ allowSimulated: true, measurements: { compose_hash: ["00".repeat(32)] } }));
    const { rc, r } = await json(reportFile, "--nonce", NONCE, "--policy", bad);
    expect(rc).toBe(1);
    expect(errorCodes(r)).toEqual(["MEASUREMENT_NOT_ALLOWED"]);
    const good = join(dir, "good-policy.json");
    writeFileSync(good, JSON.stringify({ allowSimulated: true, measurements: { compose_hash: [composeHash] } }));
    expect((await cli(reportFile, "--nonce", NONCE, "--policy", good)).rc).toBe(0);
  });

  it("exits 2 for unreadable input and bad usage", async () => {
    const junk = join(dir, "junk.bin");
    writeFileSync(junk, "this is not evidence");
    const unreadable = await json(junk);
    expect(unreadable.rc).toBe(2);
    expect(errorCodes(unreadable.r)).toEqual(["EVIDENCE_UNREADABLE"]);
    expect((await cli(join(dir, "missing.json"))).rc).toBe(2);
    expect((await cli()).rc).toBe(2);
    expect((await cli(reportFile, "--now", "yesterday")).rc).toBe(2);
    expect((await cli(reportFile, "--nonce", "abc")).rc).toBe(2);
    expect((await cli(reportFile, "--bogus")).rc).toBe(2);
    const badPolicy = join(dir, "typo-policy.json");
    writeFileSync(badPolicy, JSON.stringify({ measurments: {} }));
    expect((await cli(reportFile, "--policy", badPolicy)).rc).toBe(2);
  });
});

describe("cloister verify https://node (a local node:http server)", () => {
  const node = createSimulatedNode();
  let stale: Uint8Array | null = null;
  let replay = false;
  let server: Server;
  let url = "";
  beforeAll(async () => {
    stale = fromHex("77".repeat(32));
    const staleReport = await node.report(stale);
    server = createServer((req, res) => {
      const u = new URL(req.url ?? "/", "http://x");
      const nonce = u.searchParams.get("nonce") ?? "";
      if (u.pathname !== "/v1/attestation/report" || !/^[0-9a-f]{64}$/.test(nonce) || u.searchParams.get("signing_algo") !== "ecdsa") {
        res.writeHead(400).end();
        return;
      }
      const send = (body: unknown): void => {
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
      };
      if (replay) send(staleReport);
      else void node.report(fromHex(nonce)).then(send);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("fetches a report for a fresh nonce and verifies it", async () => {
    replay = false;
    const { rc, r } = await json(url, "--allow-simulated");
    expect(r.errors).toEqual([]);
    expect(rc).toBe(0);
  });

  it("rejects a node that replays an old report with NONCE_MISMATCH", async () => {
    replay = true;
    const { rc, r } = await json(url, "--allow-simulated");
    expect(rc).toBe(1);
    expect(errorCodes(r)).toContain("NONCE_MISMATCH");
  });

  it("exits 2 when the node cannot be reached", async () => {
    expect((await cli("http://127.0.0.1:1")).rc).toBe(2);
  });
});

const V = sharedPath("vectors");

describe.skipIf(!V)(`cloister verify on every genuine vector${V ? "" : " (skipped: ../shared/vectors missing)"}`, () => {
  const v = (p: string): string => join(V ?? "", p);

  it("intel-dcap: TDX quote with collateral is UpToDate at 2025-07-01", async () => {
    const { rc, r } = await json(v("intel-dcap/tdx_quote"), "--collateral", v("intel-dcap/tdx_quote_collateral.json"), "--now", "2025-07-01T00:00:00Z");
    expect(rc).toBe(0);
    expect(r.tee).toBe("tdx");
    expect(r.tcbStatus).toBe("UpToDate");
    expect(r.advisories).toEqual([]);
    expect(r.measurements["rtmr3"]).toBe("00".repeat(48));
  });

  it("intel-dcap: SGX quote is ConfigurationAndSWHardeningNeeded with two advisories", async () => {
    // Not UpToDate: refused by default; a policy that lists the status accepts it.
    const byDefault = await json(v("intel-dcap/sgx_quote"), "--collateral", v("intel-dcap/sgx_quote_collateral.json"), "--now", "2025-07-01T00:00:00Z");
    expect([byDefault.rc, errorCodes(byDefault.r)]).toEqual([1, ["TCB_STATUS_NOT_ALLOWED"]]);
    const policy = join(dir, "config-and-sw-hardening.json");
    writeFileSync(policy, JSON.stringify({ tcbStatuses: ["UpToDate", "ConfigurationAndSWHardeningNeeded"] }));
    const { rc, r } = await json(v("intel-dcap/sgx_quote"), "--collateral", v("intel-dcap/sgx_quote_collateral.json"), "--now", "2025-07-01T00:00:00Z", "--policy", policy);
    expect(rc).toBe(0);
    expect(r.tee).toBe("sgx");
    expect(r.tcbStatus).toBe("ConfigurationAndSWHardeningNeeded");
    expect(r.advisories).toEqual(["INTEL-SA-00289", "INTEL-SA-00615"]);
    expect(Buffer.from(fromHex(r.reportData ?? "")).toString("utf8").startsWith("Hello, world!")).toBe(true);
  });

  it("intel-dcap: a TCB status outside the policy fails TCB_STATUS_NOT_ALLOWED", async () => {
    const policy = join(dir, "uptodate-only.json");
    writeFileSync(policy, JSON.stringify({ tcbStatuses: ["UpToDate"] }));
    const { rc, r } = await json(v("intel-dcap/sgx_quote"), "--collateral", v("intel-dcap/sgx_quote_collateral.json"), "--now", "2025-07-01T00:00:00Z", "--policy", policy);
    expect(rc).toBe(1);
    expect(errorCodes(r)).toEqual(["TCB_STATUS_NOT_ALLOWED"]);
  });

  it("intel-dcap: the outdated v5 quote is rejected at 2026-03-01", async () => {
    const { rc, r } = await json(v("intel-dcap/tdx_quote_outdated"), "--collateral", v("intel-dcap/tdx_quote_outdated_collateral.json"), "--now", "2026-03-01T00:00:00Z");
    expect(rc).toBe(1);
    expect(r.verified).toBe(false);
    expect(errorCodes(r)).toContain("TCB_LEVEL_NOT_FOUND");
  });

  it("intel-dcap: NEAR's hex quote is UpToDate at 2025-09-15", async () => {
    const { rc, r } = await json(v("intel-dcap/near_quote_hex.txt"), "--collateral", v("intel-dcap/near_quote_collateral.json"), "--now", "2025-09-15T00:00:00Z");
    expect(rc).toBe(0);
    expect(r.tcbStatus).toBe("UpToDate");
  });

  it("intel-dcap: dstack's parse-only quotes verify offline and leave TCB status unchecked", async () => {
    for (const f of ["tdx-quote.hex", "quote-from-tappd.hex"]) {
      const refused = await cli(v(`intel-dcap/${f}`), "--now", "2026-11-01T00:00:00Z");
      expect(refused.rc).toBe(1);
      expect(refused.out).toMatch(/^✗ TCB_UNCHECKED unchecked: tcb/m);
      const run = await cli(v(`intel-dcap/${f}`), "--now", "2026-11-01T00:00:00Z", "--accept-unchecked", "tcb");
      expect(run.rc).toBe(0);
      expect(run.out).toMatch(/^– skipped: TCB status: not checked: needs Intel collateral/m);
    }
  });

  it("nvidia-spdm: Hopper evidence with its chain and nonce; a wrong nonce fails", async () => {
    const args = [v("nvidia-spdm/hopperAttestationReport.txt"), "--cert-chain", v("nvidia-spdm/hopperCertChain.txt"), "--now", "2025-01-01T00:00:00Z"];
    const nonce = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb";
    const ok = await json(...args, "--nonce", nonce);
    expect(ok.rc).toBe(0);
    expect(ok.r.tee).toBe("nvidia-gpu");
    const bad = await json(...args, "--nonce", "00".repeat(32));
    expect(bad.rc).toBe(1);
    expect(errorCodes(bad.r)).toContain("GPU_NONCE_MISMATCH");
    expect((await cli(v("nvidia-spdm/hopperAttestationReport.txt"))).rc).toBe(2); // no chain
  });

  it("nvidia-spdm: the 8-GPU and NVSwitch evidence lists verify", async () => {
    for (const f of ["gpu_evidence.json", "switch_evidence.json"]) {
      const { rc, r } = await json(v(`nvidia-spdm/${f}`), "--now", "2026-01-01T00:00:00Z");
      expect(r.errors).toEqual([]);
      expect(rc).toBe(0);
    }
  });

  it("nvidia-nras: tokens verify at iat + 60 s with the JWKS beside them, and are expired today", async () => {
    const runs: [string, number][] = [
      ["nearcloud_qwen_qwen3.5-122b-a10b_20260629_020657", 1782698812],
      ["nanogpt_tee_gemma-3-27b-it_20260610_014905", 1781056142],
      ["tinfoil_v3_direct_gemma4-31b_20260629_020805", 1782698883],
    ];
    for (const [name, iat] of runs) {
      const { rc, r } = await json(v(`nvidia-nras/${name}.nras.body`), "--now", String(iat + 60));
      expect(r.errors).toEqual([]);
      expect(rc).toBe(0);
    }
    const late = await json(v(`nvidia-nras/${runs[0]![0]}.nras.body`), "--now", "2030-01-01T00:00:00Z");
    expect(late.rc).toBe(1);
    expect(errorCodes(late.r)).toContain("JWT_EXPIRED");
  });

  it("amd-sev-snp: the Tinfoil bundle verifies, and the raw report with its VCEK; the signed release matches via --policy", async () => {
    const bundle = JSON.parse(readFileSync(v("amd-sev-snp/attestation-bundle.json"), "utf8")) as { vcek: string; sigstoreBundle: unknown };
    const b = await json(v("amd-sev-snp/attestation-bundle.json"), "--now", "2026-02-01T00:00:00Z", "--accept-unchecked", "tcb");
    expect(b.r.errors).toEqual([]);
    expect(b.r.tee).toBe("sev-snp");
    expect(b.r.measurements["measurement"]?.startsWith("09ef32ac")).toBe(true);
    const pem = join(dir, "vcek.pem");
    writeFileSync(pem, `-----BEGIN CERTIFICATE-----\n${bundle.vcek.match(/.{1,64}/g)?.join("\n")}\n-----END CERTIFICATE-----\n`);
    const raw = await json(v("amd-sev-snp/snp-report.bin"), "--cert-chain", pem, "--now", "2026-02-01T00:00:00Z", "--accept-unchecked", "tcb");
    expect(raw.rc).toBe(0);
    expect(raw.r.measurements["measurement"]).toBe(b.r.measurements["measurement"]);
    const policy = join(dir, "snp-sigstore.json");
    writeFileSync(
      policy,
      JSON.stringify({
        tcbStatuses: ["UpToDate"],
        acceptUnchecked: ["tcb"],
        sigstore: { bundle: bundle.sigstoreBundle, identity: { issuer: "https://token.actions.githubusercontent.com" } },
      }),
    );
    const judged = await json(v("amd-sev-snp/attestation-bundle.json"), "--now", "2026-02-01T00:00:00Z", "--policy", policy);
    expect(judged.r.errors).toEqual([]);
  });

  it("near-ai: the whole report verifies with its nonce at 2026-03-12; another nonce fails", async () => {
    const f = v("near-ai/nearai_cloud_report_openai_gpt_oss_120b.json");
    const nonce = "deadbeef00000000000000000000000000000000000000000000000000000001";
    const { rc, r } = await json(f, "--nonce", nonce, "--now", "2026-03-12T00:00:00Z", "--accept-unchecked", "tcb,gpu-rim", "--accept-unchecked", "gpu-ocsp");
    expect(r.errors).toEqual([]);
    expect(rc).toBe(0);
    expect(r.tcbStatus).toBeNull();
    const bad = await json(f, "--nonce", "11".repeat(32), "--now", "2026-03-12T00:00:00Z");
    expect(bad.rc).toBe(1);
    expect(errorCodes(bad.r)).toContain("NONCE_MISMATCH");
  });

  it("google-tdx: the production SPR quote and the CCEL quote verify offline at their time", async () => {
    expect((await json(v("google-tdx/tdx_prod_quote_SPR_E4.dat"), "--now", "1688083200", "--accept-unchecked", "tcb")).rc).toBe(0);
    expect((await json(v("google-tdx/ccel/cos-113-tdx-quote.dat"), "--now", "2025-01-01T00:00:00Z", "--accept-unchecked", "tcb")).rc).toBe(0);
    const v5 = await json(v("google-tdx/quote_v5_sample.dat"), "--now", "2026-06-01T00:00:00Z", "--accept-unchecked", "tcb");
    expect(v5.r.tee).toBe("tdx");
    expect(v5.rc).toBe(0);
  });

  it("dstack: GetQuote responses and SCALE-encoded verifier inputs verify (quote/report, report_data, replay, app identity)", async () => {
    for (const f of ["tdx-lite-getquote.json", "quote-report.json"]) {
      const { rc, r } = await json(v(`dstack/${f}`), "--now", "2026-06-01T00:00:00Z", "--accept-unchecked", "tcb");
      expect(r.errors).toEqual([]);
      expect(rc).toBe(0);
    }
    // The SNP fixture's VCEK is valid from 2026-06-17.
    for (const [f, at] of [["tdx-lite-attestation.json", "2026-06-01T00:00:00Z"], ["sev-snp-attestation.json", "2026-07-01T00:00:00Z"]] as const) {
      const { rc, r } = await json(v(`dstack/${f}`), "--now", at, "--accept-unchecked", "tcb");
      expect(r.errors).toEqual([]);
      expect(rc).toBe(0);
    }
  });
});
