/**
 * Issue 7, item 5 through `cloister chat` and a real node behind a recording proxy:
 * --tofu pins the node's measurements on first use; a node whose measurements differ from
 * the pin is refused with MEASUREMENTS_CHANGED before the prompt leaves the machine.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chatCommand } from "../../src/cli/commands/chat.js";
import type { CliIO } from "../../src/cli/io.js";
import { ANSWER } from "./client-fixtures.js";
import { useNodeBehindProxy } from "./client-env.js";

function captureIO(dataDir: string): CliIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => void stdout.push(t), err: (t) => void stderr.push(t), env: { CLOISTER_DATA_DIR: dataDir }, cwd: process.cwd() };
}

const env = useNodeBehindProxy();

describe("cloister chat --tofu", () => {
  it("pins on first use, then answers quietly from the same node", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cloister-tofu-"));
    const first = captureIO(dir);
    expect(await chatCommand(["--url", env.proxy.url, "--allow-simulated", "--tofu", "--model", "fake", "hi"], first)).toBe(0);
    expect(first.stderr.join("\n")).toMatch(/pinned this node's measurements on first use/);
    const pins = JSON.parse(readFileSync(join(dir, "pinned-measurements.json"), "utf8")) as { nodes: Record<string, { measurements: Record<string, string> }> };
    expect(Object.values(pins.nodes)[0]?.measurements["rtmr3"]).toMatch(/^[0-9a-f]{96}$/);
    const again = captureIO(dir);
    expect(await chatCommand(["--url", env.proxy.url, "--allow-simulated", "--tofu", "--model", "fake", "hi"], again)).toBe(0);
    expect(again.stdout.join("")).toBe(ANSWER);
    expect(again.stderr.join("\n")).not.toMatch(/WARNING: no measurement is pinned|first use/);
  });

  it("refuses a node whose measurements changed (MEASUREMENTS_CHANGED); the prompt never leaves", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cloister-tofu-"));
    const file = join(dir, "pins.json");
    const seed = captureIO(dir);
    expect(await chatCommand(["--url", env.proxy.url, "--allow-simulated", "--pin-file", file, "--model", "fake", "hi"], seed)).toBe(0);
    // The pin says other code ran here before (as if the operator swapped the app).
    const pins = JSON.parse(readFileSync(file, "utf8")) as { nodes: Record<string, { measurements: Record<string, string> }> };
    for (const n of Object.values(pins.nodes)) n.measurements["rtmr3"] = "ab".repeat(48);
    writeFileSync(file, JSON.stringify(pins));
    const io = captureIO(dir);
    expect(await chatCommand(["--url", env.proxy.url, "--allow-simulated", "--pin-file", file, "--json", "--model", "fake", "secret-otter-plans"], io)).toBe(1);
    expect(JSON.parse(io.stdout.join(""))).toMatchObject({ verified: false, error: { code: "MEASUREMENTS_CHANGED" } });
    expect(env.proxy.wire()).not.toContain("secret-otter-plans");
  });
});
