/**
 * The attacker of dos-input.test.ts, as its own process (so its own work — building and
 * sending megabytes — is not counted against the node's event loop): sends every attack
 * twice, all at once, and prints one JSON line of {status, code, want} per request.
 */
const [url = "", model = ""] = process.argv.slice(2);
const huge = "Once upon a time there was a little girl. ".repeat(Math.ceil(3_900_000 / 43)).slice(0, 3_900_000);
// Each attack, and the answer it must get: huge bodies are refused from Content-Length
// (413, ../../src/gateway/body-bound.ts); smaller ones that still exceed what the model
// can use reach the backend's bounds (400, src/inference/llama/input-bounds.ts).
// 50 kB: past any test model's context, and under the body cap for every one of them (the
// cap's 64 KiB slack alone; 100 kB was over it for the tiny model generated without ../shared).
const mid = huge.slice(0, 50_000);
const enumOf = (n: number) => ({ type: "json_schema", json_schema: { name: "e", schema: { type: "string", enum: Array.from({ length: n }, (_, i) => `value-${i}`) } } });
const attacks: [string, unknown, string][] = [
  ["/v1/completions", { model, prompt: mid, max_tokens: 1 }, "context_overflow"],
  ["/v1/chat/completions", { model, messages: [{ role: "user", content: mid }], max_tokens: 1 }, "context_overflow"],
  ["/v1/completions", { model, prompt: "Once", max_tokens: 1, stop: ["x".repeat(2048)] }, "input_too_large"],
  ["/v1/chat/completions", { model, messages: [{ role: "user", content: "pick" }], max_tokens: 1, response_format: enumOf(2500) }, "invalid_schema"],
  ["/v1/completions", { model, prompt: huge, max_tokens: 1 }, "body_too_large"],
  ["/v1/chat/completions", { model, messages: [{ role: "user", content: huge }], max_tokens: 1 }, "body_too_large"],
  ["/v1/completions", { model, prompt: "Once", max_tokens: 1, stop: ["x".repeat(1 << 20)] }, "body_too_large"],
  [
    "/v1/chat/completions",
    {
      model,
      messages: [{ role: "user", content: "pick" }],
      max_tokens: 1,
      response_format: { type: "json_schema", json_schema: { name: "e", schema: { type: "string", enum: Array.from({ length: 20_000 }, (_, i) => `value-${i}`) } } },
    },
    "body_too_large",
  ],
];
const bodies = [...attacks, ...attacks].map(([path, body, want]) => [path, JSON.stringify(body), want] as const);
const results = await Promise.all(
  bodies.map(async ([path, body, want]) => {
    const r = await fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const text = await r.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
    } catch {
      code = undefined;
    }
    return { status: r.status, code, want };
  }),
);
process.stdout.write(`${JSON.stringify(results)}\n`);
