/** `cloister data up` and `cloister data contribute`, in process, against each other (simulator TEE). */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CliIO } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";

const dir = mkdtempSync(join(tmpdir(), "cloister-data-cli-"));
const stop = new AbortController();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(signal?: AbortSignal): CliIO & { lines: string[]; errs: string[] } {
  const lines: string[] = [];
  const errs: string[] = [];
  return { lines, errs, out: (t) => lines.push(t), err: (t) => errs.push(t), env: { HOME: dir }, cwd: dir, ...(signal ? { signal } : {}) };
}

describe("cloister data up / contribute", () => {
  it("serves the pipeline; a contributor is refused without --allow-simulated and gets a verified receipt with it", async () => {
    const upIO = io(stop.signal);
    const running = main(["data", "up", "--tee", "simulated", "--port", "0", "--data-dir", join(dir, "node")], upIO);
    let url = "";
    for (let i = 0; i < 1200 && !url; i++) {
      await new Promise((r) => setTimeout(r, 25));
      url = /pipeline at (\S+)\/data/.exec(upIO.lines.join("\n"))?.[1] ?? "";
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const measurement = /pipeline measurement ([0-9a-f]{64})/.exec(upIO.lines.join("\n"))?.[1] ?? "";
    writeFileSync(join(dir, "notes.jsonl"), `${JSON.stringify({ text: "Call John Smith at (415) 555-2671 about the invoice." })}\n`);

    const refused = io();
    expect(await main(["data", "contribute", "notes.jsonl", "--url", url, "--dataset", "support"], refused)).toBe(1);
    expect(refused.errs.join("\n")).toContain("ATTESTATION_FAILED");

    const ok = io();
    expect(await main(["data", "contribute", "notes.jsonl", "--url", url, "--dataset", "support", "--allow-simulated", "--expect", measurement, "--json"], ok)).toBe(0);
    const r = JSON.parse(ok.lines[0] ?? "{}") as { receipt: { message: { accepted: boolean; pipeline: string } }; removed: Record<string, number> };
    expect(r.receipt.message.accepted).toBe(true);
    expect(r.receipt.message.pipeline).toBe(`0x${measurement}`);
    expect(r.removed).toMatchObject({ PERSON: 1, PHONE: 1 });
    stop.abort();
    expect(await running).toBe(0);
  });
});
