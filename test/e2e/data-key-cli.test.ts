/**
 * The dataset owner's key upload through the CLI, every broker a real `cloister kms up`
 * on loopback (in this process, over HTTP): `data key upload` writes a new key 0600 and
 * splits it over three attested brokers under a policy naming the pipeline; `data up
 * --kms … --dataset … --dataset-key-id …` then gets that key (its sealed records open
 * with the owner's key file), and a pipeline the policy does not name is refused.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIO } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";
import { describeDefaultPipeline } from "../../src/data/pipeline/pipeline.js";
import { openRecords } from "../../src/data/pipeline/sealed-store.js";

const dir = mkdtempSync(join(tmpdir(), "cloister-data-key-cli-"));
const stops: Array<{ stop: AbortController; running: Promise<number> }> = [];
let brokers: string[] = [];

function io(signal?: AbortSignal): CliIO & { lines: string[]; errs: string[] } {
  const lines: string[] = [];
  const errs: string[] = [];
  return { lines, errs, out: (t) => lines.push(t), err: (t) => errs.push(t), env: { HOME: dir }, cwd: dir, ...(signal ? { signal } : {}) };
}

/** Starts a long-running command in-process; resolves with its first match of `ready` once printed. */
async function serve(args: string[], ready: RegExp): Promise<{ match: RegExpExecArray; out: ReturnType<typeof io>; running: Promise<number>; stop: AbortController }> {
  const stop = new AbortController();
  const out = io(stop.signal);
  const running = main(args, out);
  let exited = false;
  void running.then(() => (exited = true));
  for (let i = 0; i < 2400; i++) {
    const m = ready.exec(out.lines.join("\n"));
    if (m) {
      stops.push({ stop, running });
      return { match: m, out, running, stop };
    }
    if (exited) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  stop.abort();
  throw new Error(`cloister ${args.join(" ")} did not start:\n${out.lines.join("\n")}\n${out.errs.join("\n")}`);
}

beforeAll(async () => {
  const started = [];
  for (const i of [0, 1, 2]) started.push(await serve(["kms", "up", "--port", "0", "--tee", "simulated", "--data-dir", join(dir, `broker-${i}`)], /serving at (http:\/\/\S+)/));
  brokers = started.map((s) => s.match[1] ?? "");
  const k = io();
  expect(await main(["model", "keygen", "--out", "owner.key"], k)).toBe(0);
}, 120_000);

afterAll(async () => {
  for (const s of stops) s.stop.abort();
  await Promise.all(stops.map((s) => s.running));
  rmSync(dir, { recursive: true, force: true });
});

describe("cloister data key upload", () => {
  it("uploads a new dataset key that the named pipeline then gets from the brokers", async () => {
    const measurement = describeDefaultPipeline().measurement;
    const up = io();
    expect(await main(["data", "key", "upload", "--dataset", "clinic-notes", "--kms", brokers.join(","), "--threshold", "2", "--owner-key", "owner.key",
      "--pipeline-measurement", measurement, "--training-job", "7e".repeat(32), "--allow-simulated-kms", "--policy-allow-simulated", "--json"], up)).toBe(0);
    const r = JSON.parse(up.lines[0] ?? "{}") as { key_id: string; key_file: string; created: boolean; uploaded: Array<{ shareIndex: number }>; policy: { measurements: { rtmr3: string[] } } };
    expect(r.created).toBe(true);
    expect(r.key_file).toBe(join(dir, "clinic-notes.dataset.key"));
    expect(statSync(r.key_file).mode & 0o777).toBe(0o600);
    expect(r.uploaded.map((u) => u.shareIndex)).toEqual([1, 2, 3]);
    expect(r.policy.measurements.rtmr3).toHaveLength(2);
    const key = Buffer.from(readFileSync(r.key_file, "utf8").trim(), "hex");
    expect(key).toHaveLength(32);
    // The key never appears in what the command printed.
    expect(up.lines.join("\n")).not.toContain(key.toString("hex"));

    // A second upload never overwrites the owner's key file.
    const again = io();
    expect(await main(["data", "key", "upload", "--dataset", "clinic-notes", "--kms", brokers.join(","), "--owner-key", "owner.key", "--pipeline-measurement", measurement, "--allow-simulated-kms"], again)).toBe(2);
    expect(again.errs.join("\n")).toContain("must not exist yet");
    expect(readFileSync(r.key_file).equals(Buffer.from(`${key.toString("hex")}\n`))).toBe(true);

    // The pipeline takes its key from the brokers: what it seals opens with the owner's key.
    const node = await serve(["data", "up", "--tee", "simulated", "--port", "0", "--data-dir", join(dir, "node"), "--kms", brokers.join(","), "--kms-allow-simulated",
      "--dataset", "clinic-notes", "--dataset-key-id", r.key_id], /pipeline at (\S+)\/data[\s\S]*pipeline measurement/);
    writeFileSync(join(dir, "notes.jsonl"), `${JSON.stringify({ text: "Call John Smith at (415) 555-2671 about the invoice." })}\n`);
    const c = io();
    expect(await main(["data", "contribute", "notes.jsonl", "--url", node.match[1] ?? "", "--dataset", "clinic-notes", "--allow-simulated", "--expect", measurement, "--json"], c)).toBe(0);
    const id = (JSON.parse(c.lines[0] ?? "{}") as { receipt: { message: { contributionId: string } } }).receipt.message.contributionId;
    const folder = join(dir, "node", "datasets", "clinic-notes");
    const sealed = readdirSync(folder).find((f) => f !== "manifest.json") ?? "";
    const opened = Buffer.from(openRecords(new Uint8Array(key), "clinic-notes", id, readFileSync(join(folder, sealed)))).toString();
    expect(opened).toContain("[PERSON_1]");
    expect(opened).not.toContain("John Smith");
    node.stop.abort();
    expect(await node.running).toBe(0);
  });

  it("uploads an existing key file, and a pipeline the policy does not name gets nothing", async () => {
    writeFileSync(join(dir, "support.key"), `${"5c".repeat(32)}\n`, { mode: 0o600 });
    const up = io();
    expect(await main(["data", "key", "upload", "--dataset", "support", "--kms", brokers.join(","), "--owner-key", "owner.key", "--key-file", "support.key",
      "--pipeline-measurement", "99".repeat(32), "--allow-simulated-kms", "--policy-allow-simulated"], up)).toBe(0);
    const keyId = /key id ([0-9a-f]{32})/.exec(up.lines.join("\n"))?.[1] ?? "";
    expect(up.lines.join("\n")).toContain(`--dataset support --dataset-key-id ${keyId}`);
    const refused = io();
    expect(await main(["data", "up", "--tee", "simulated", "--port", "0", "--data-dir", join(dir, "node2"), "--kms", brokers.join(","), "--kms-allow-simulated",
      "--dataset", "support", "--dataset-key-id", keyId], refused)).toBe(1);
    expect(refused.errs.join("\n")).toContain("KMS_QUORUM_NOT_REACHED");
  });

  it("refuses, as usage errors, an upload that names no holder, too few brokers or simulated brokers not allowed", async () => {
    const none = io();
    expect(await main(["data", "key", "upload", "--dataset", "x", "--kms", brokers.join(","), "--owner-key", "owner.key", "--allow-simulated-kms"], none)).toBe(2);
    expect(none.errs.join("\n")).toContain("--pipeline-measurement");
    const few = io();
    expect(await main(["data", "key", "upload", "--dataset", "x", "--kms", brokers[0] ?? "", "--threshold", "2", "--owner-key", "owner.key", "--pipeline-measurement", "99".repeat(32)], few)).toBe(2);
    // Brokers on the simulator are refused unless allowed: nothing is sent (the new key file stays for a retry).
    const sim = io();
    expect(await main(["data", "key", "upload", "--dataset", "y", "--kms", brokers.join(","), "--owner-key", "owner.key", "--pipeline-measurement", "99".repeat(32)], sim)).toBe(1);
    expect(sim.errs.join("\n")).toContain("KMS_BROKER_UNAVAILABLE");
    expect(sim.errs.join("\n")).toContain("--key-file");
  });
});
