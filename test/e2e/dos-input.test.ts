/**
 * Issue 7 item 9a: huge inputs must not stall the node for everyone else. An attacker
 * process (./dos-attacker.ts) sends 3.9 MB prompts (text and chat), a 1 MiB stop string and
 * a 20k-value enum schema, all at once, while another client keeps asking /health and for
 * small completions.
 * The node (in this process, real llama backend) refuses each with a clear 413 (a body
 * larger than any prompt the context holds) or 400 (a prompt, stop or schema the model
 * cannot use), and its
 * event loop never stalls for long (perf_hooks.monitorEventLoopDelay; the bound is
 * generous so a loaded machine does not flake: before the fix each prompt stalled it 3–6 s).
 */
import { spawn } from "node:child_process";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testModelPath } from "../fixtures/tiny-gguf.js";
import { startNode, type RunningNode } from "./node-harness.js";

let node: RunningNode;
let model = "";

beforeAll(async () => {
  node = await startNode(["--model", await testModelPath(), "--no-auth", "--tee", "simulated", "--parallel", "2"]);
  model = ((await (await fetch(`${node.url}/v1/models`)).json()) as { data: { id: string }[] }).data[0]?.id ?? "";
});
afterAll(async () => {
  expect(await node.stop()).toBe(0);
});

const post = (path: string, body: string): Promise<Response> => fetch(`${node.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });

describe("oversized input is refused before it costs the event loop", () => {
  it("an attacker's huge prompts, stop strings and schemas get 413s and 400s while another client keeps being served", async () => {
    // The victim's keep-alive socket serves many requests: nothing may pile up per request on it.
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on("warning", onWarning);
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    let victimDone = false;
    let victimOk = 0;
    const victim = (async () => {
      while (!victimDone) {
        expect((await fetch(`${node.url}/health`)).status).toBe(200);
        const r = await post("/v1/completions", JSON.stringify({ model, prompt: "Once upon a time", max_tokens: 2 }));
        expect(r.status).toBe(200);
        await r.arrayBuffer();
        victimOk++;
      }
    })();
    const attacker = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./dos-attacker.ts", import.meta.url)), node.url, model], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    attacker.stdout.on("data", (d: Buffer) => void (out += d.toString()));
    const code = await new Promise<number | null>((r) => attacker.once("exit", r));
    victimDone = true;
    await victim;
    lag.disable();
    process.off("warning", onWarning);
    expect(warnings).not.toContain("MaxListenersExceededWarning");
    expect(code).toBe(0);
    const results = JSON.parse(out) as { status: number; code?: string; want: string }[];
    expect(results).toHaveLength(16);
    for (const r of results) expect(r).toEqual({ status: r.want === "body_too_large" ? 413 : 400, code: r.want, want: r.want });
    expect(victimOk).toBeGreaterThan(0);
    // The node's longest event-loop stall, in ms, over the whole attack.
    expect(lag.max / 1e6).toBeLessThan(1000);
  });
});
