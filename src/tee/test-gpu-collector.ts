/**
 * Test-only: a fake GPU evidence collector, a real child process (node script in a temp
 * dir) that replays an evidence file the way nvattest / nvtrust's cc_admin print it.
 * The evidence file is a JSON list of {certificate, evidence, arch?, nonce?} (the format of
 * ../shared/vectors/nvidia-spdm/gpu_evidence.json); it is read in place, never copied.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type FakeCollectorMode =
  /** nvattest collect-evidence: {evidences, result_code: 0, result_message}. */
  | "nvattest"
  /** cc_admin.collect_gpu_evidence_remote: [{certificate, evidence}] (no nonce, no arch). */
  | "bare"
  /** Claims the nonce it was given (argv) in a NEAR payload, whatever the evidence answers. */
  | "near"
  /** bare, with one byte of GPU 0's SPDM measurement record flipped. */
  | "tamper"
  /** A log line on stdout before the JSON (Python collectors do this). */
  | "noisy"
  | "fail"
  | "hang"
  | "empty"
  | "rc";

const SCRIPT = `
import { readFileSync } from "node:fs";
const [mode, file, nonce] = process.argv.slice(2);
const out = (v) => process.stdout.write(JSON.stringify(v) + "\\n");
if (mode === "fail") { process.stderr.write("NVML: Unable to get the attestation report\\n"); process.exit(3); }
if (mode === "hang") { setTimeout(() => {}, 600000); }
else if (mode === "empty") { process.exit(0); }
else if (mode === "rc") { out({ evidences: [], result_code: 3, result_message: "NVAT_RC_NVML_ERROR" }); }
else {
  const items = JSON.parse(readFileSync(file, "utf8"));
  const bare = items.map((e) => ({ certificate: e.certificate, evidence: e.evidence }));
  if (mode === "nvattest") out({ evidences: items, result_code: 0, result_message: "Ok" });
  else if (mode === "bare") out(bare);
  else if (mode === "near") out({ nonce, arch: "HOPPER", evidence_list: bare });
  else if (mode === "noisy") { process.stdout.write("INFO collecting evidence\\n"); out(bare); }
  else if (mode === "tamper") {
    const ev = Buffer.from(bare[0].evidence, "base64");
    ev[60] ^= 1;
    bare[0].evidence = ev.toString("base64");
    out(bare);
  } else { process.stderr.write("unknown mode " + mode + "\\n"); process.exit(2); }
}
`;

let scriptPath: string | null = null;

/** argv for the fake collector: `{nonce}` is substituted by the collector under test. */
export function fakeCollectorArgv(mode: FakeCollectorMode, evidenceFile: string): string[] {
  if (!scriptPath) {
    scriptPath = join(mkdtempSync(join(tmpdir(), "gpu-collector-")), "collector.mjs");
    writeFileSync(scriptPath, SCRIPT);
  }
  return [process.execPath, scriptPath, mode, evidenceFile, "{nonce}"];
}

/** Writes an evidence list (e.g. from the simulator) to a temp file for the fake collector. */
export function writeEvidenceFile(items: readonly Readonly<Record<string, string>>[]): string {
  const p = join(mkdtempSync(join(tmpdir(), "gpu-evidence-")), "evidence.json");
  writeFileSync(p, JSON.stringify(items));
  return p;
}
