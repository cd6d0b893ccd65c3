import { describe, expect, it } from "vitest";
import { createSigner } from "../seal/signing.js";
import { runAgent } from "./runner.js";
import type { SandboxSupport } from "./sandbox/detect.js";
import { inlineBundle } from "./test-fixtures.js";

const noSandbox: SandboxSupport = { available: false, reason: "bubblewrap (bwrap) is not installed: apt-get install bubblewrap", bwrap: null, cgroup: null, seccomp: false, dropHostUid: false };
const signer = createSigner("ed25519");
const base = { scannerReportSha256: null, signer, attestation: { tee: "simulated", e2ePublicKey: new Uint8Array(32) } } as const;

describe("runAgent", () => {
  it("refuses an untrusted agent with a clear message when no sandbox is available", async () => {
    const { signed, hash } = inlineBundle(`console.log("{}")`);
    await expect(runAgent({ ...base, signed, bundleSha256: hash, input: Buffer.from("{}"), sandboxSupport: noSandbox })).rejects.toMatchObject({ code: "AGENT_SANDBOX_UNAVAILABLE", message: expect.stringContaining("apt-get install bubblewrap") });
  });
  it("runs unsandboxed only with the development flag, loudly, and says so in the receipt", async () => {
    const { signed, hash } = inlineBundle(`import fs from "node:fs"; const i = JSON.parse(fs.readFileSync(0, "utf8")); console.log(JSON.stringify({ n: i.n * 2 }));`);
    const warnings: string[] = [];
    const r = await runAgent({ ...base, signed, bundleSha256: hash, input: Buffer.from('{"n":21}'), sandboxSupport: noSandbox, allowUnsandboxed: true, onWarning: (m) => warnings.push(m) });
    expect(JSON.parse(r.output.toString())).toEqual({ n: 42 });
    expect(warnings.join()).toMatch(/WITHOUT a sandbox/);
    expect(r.receipt.receipt.sandbox).toEqual({ kind: "none", seccomp: false, cgroup: null });
  });
  it("refuses input that is not JSON, too large, an unaccepted `full` level, and unmet requirements, before anything runs", async () => {
    const small = inlineBundle(`console.log("{}")`, { inputs: { maxBytes: 10 } });
    await expect(runAgent({ ...base, ...{ signed: small.signed, bundleSha256: small.hash }, input: Buffer.from("not json") })).rejects.toMatchObject({ code: "AGENT_INPUT_INVALID" });
    await expect(runAgent({ ...base, ...{ signed: small.signed, bundleSha256: small.hash }, input: Buffer.from('{"a":"0123456789"}') })).rejects.toMatchObject({ code: "AGENT_INPUT_INVALID" });
    const full = inlineBundle(`console.log("{}")`, { observability: "full" });
    await expect(runAgent({ ...base, signed: full.signed, bundleSha256: full.hash, input: Buffer.from("{}") })).rejects.toMatchObject({ code: "AGENT_FULL_OBSERVABILITY_NOT_ACCEPTED" });
    await expect(runAgent({ ...base, signed: full.signed, bundleSha256: full.hash, input: Buffer.from("{}"), acceptFull: true, requirements: { observability: "redacted" } })).rejects.toMatchObject({ code: "AGENT_GUARANTEE_UNMET" });
  });
});
