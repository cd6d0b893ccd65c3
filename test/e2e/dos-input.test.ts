/**
 * Issue 7 item 9a: huge inputs must not stall the node for everyone else. An attacker
 * sends a 3.9 MB prompt (text and chat), a 1 MiB stop string and a 20k-value enum schema,
 * several at once, while another client keeps asking /health and for small completions.
 * The node (in this process, real llama backend) refuses each with a clear 400, and its
 * event loop never stalls for long (perf_hooks.monitorEventLoopDelay; the bound is
 * generous so a loaded machine does not flake: before the fix each prompt stalled it 3–6 s).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
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
  it("an attacker's huge prompts, stop strings and schemas get 400s while another client keeps being served", async () => {
    const huge = "Once upon a time there was a little girl. ".repeat(Math.ceil(3_900_000 / 43)).slice(0, 3_900_000);
    const attacks: [string, string, string][] = [
      ["/v1/completions", JSON.stringify({ model, prompt: huge, max_tokens: 1 }), "context_overflow"],
      ["/v1/chat/completions", JSON.stringify({ model, messages: [{ role: "user", content: huge }], max_tokens: 1 }), "context_overflow"],
      ["/v1/completions", JSON.stringify({ model, prompt: "Once", max_tokens: 1, stop: ["x".repeat(1 << 20)] }), "input_too_large"],
      [
        "/v1/chat/completions",
        JSON.stringify({
          model,
          messages: [{ role: "user", content: "pick" }],
          max_tokens: 1,
          response_format: { type: "json_schema", json_schema: { name: "e", schema: { type: "string", enum: Array.from({ length: 20_000 }, (_, i) => `value-${i}`) } } },
        }),
        "invalid_schema",
      ],
    ];
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
    // Two rounds of every attack, all in flight together.
    const results = await Promise.all([...attacks, ...attacks].map(async ([path, body, code]) => {
      const r = await post(path, body);
      return { status: r.status, code: ((await r.json()) as { error?: { code?: string } }).error?.code, want: code };
    }));
    victimDone = true;
    await victim;
    lag.disable();
    for (const r of results) expect(r).toEqual({ status: 400, code: r.want, want: r.want });
    expect(victimOk).toBeGreaterThan(0);
    // Max event-loop stall in ms over the whole attack.
    expect(lag.max / 1e6).toBeLessThan(1000);
  });
});
