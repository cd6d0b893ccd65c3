/**
 * Pre-started sandboxes (src/agents/sandbox/warm-pool.ts) must still give every run a
 * fresh sandbox: a run that leaves files in /tmp, globals, a background process or a
 * listening socket behind leaves nothing for the next run taken from the same pool.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createSigner } from "../../src/seal/signing.js";
import { runAgent } from "../../src/agents/runner.js";
import { detectSandbox } from "../../src/agents/sandbox/detect.js";
import { SandboxPool } from "../../src/agents/sandbox/warm-pool.js";
import { inlineBundle } from "../../src/agents/test-fixtures.js";

const support = detectSandbox();
const title = support.available ? "warm sandbox pool (real sandbox)" : `warm sandbox pool (skipped: ${support.reason ?? "no sandbox"})`;
const signer = createSigner("ed25519");
const pool = new SandboxPool({ size: 1 });

const AGENT = `
import fs from "node:fs"; import net from "node:net"; import { spawn } from "node:child_process";
const seen = { tmp: fs.existsSync("/tmp/left-behind") ? fs.readFileSync("/tmp/left-behind", "utf8") : null, global: globalThis.leftBehind ?? null,
  procs: fs.readdirSync("/proc").filter((p) => /^\\d+$/.test(p)).length, port: await new Promise((r) => { const s = net.connect(45678, "127.0.0.1"); s.on("connect", () => r("open")); s.on("error", (e) => r(e.code)); }),
  ctl: (() => { try { fs.writeSync(3, "x"); return "open"; } catch (e) { return e.code; } })() };
fs.writeFileSync("/tmp/left-behind", process.env.CLOISTER_RUN_ID); globalThis.leftBehind = process.env.CLOISTER_RUN_ID;
spawn("/bin/sh", ["-c", "sleep 30"], { detached: true, stdio: "ignore" }).unref();
net.createServer().listen(45678, "127.0.0.1").unref();
console.log(JSON.stringify(seen)); await new Promise((r) => setTimeout(r, 100)); process.exit(0);`;

afterAll(() => pool.close());

describe.skipIf(!support.available)(title, () => {
  it("hands each run a fresh pre-started sandbox: nothing of the previous run is left in it", async () => {
    const { signed, hash } = inlineBundle(AGENT);
    await pool.warm(signed.bundle.manifest.limits);
    const runs = [];
    for (let i = 0; i < 3; i++) {
      const ready = await pool.warm(signed.bundle.manifest.limits);
      expect(ready).toEqual([true]);
      const r = await runAgent({ signed, bundleSha256: hash, scannerReportSha256: null, input: Buffer.from("{}"), signer, attestation: { tee: "simulated", e2ePublicKey: new Uint8Array(32) }, pool });
      expect(r.process.outcome).toBe("ok");
      // Started before the run was asked for: the pool's slot, not a cold start.
      expect(r.process.waitedMs).toBeGreaterThan(0);
      runs.push(JSON.parse(r.output.toString("utf8")) as Record<string, unknown>);
    }
    for (const seen of runs) {
      expect(seen.tmp).toBeNull();
      expect(seen.global).toBeNull();
      expect(seen.port).toBe("ECONNREFUSED");
      expect(seen.ctl).toBe("EBADF");
      // bwrap's init, the agent: no sleeper from an earlier run.
      expect(seen.procs).toBeLessThanOrEqual(2);
    }
  });
});
