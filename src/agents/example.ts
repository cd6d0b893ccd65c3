/**
 * What `cloister agent init` writes: a working agent that summarises its input with the
 * node's model through the official `openai` client (OPENAI_BASE_URL and OPENAI_API_KEY
 * are set inside the sandbox; the key is a placeholder the egress proxy replaces).
 */
export function exampleAgentFiles(name: string, model: string): Record<string, string> {
  const manifest = {
    name,
    version: "0.1.0",
    description: "Summarises the text it is given in one sentence, with the node's model.",
    entry: "index.mjs",
    models: [model],
    egress: [],
    observability: "none",
    limits: { memoryMb: 256, cpuSeconds: 10, wallSeconds: 60, outputBytes: 65536, pids: 32 },
    inputs: { type: "json", maxBytes: 65536, description: '{"text": "..."}' },
  };
  const index = `import { readFileSync } from "node:fs";
import OpenAI from "openai";

// The input is JSON on stdin; the answer is JSON on stdout. Nothing else of the host is here.
const input = JSON.parse(readFileSync(0, "utf8"));
const client = new OpenAI(); // reads OPENAI_BASE_URL and OPENAI_API_KEY from the sandbox

const r = await client.chat.completions.create({
  model: ${JSON.stringify(model)},
  messages: [
    { role: "system", content: "Summarise the user's text in one sentence." },
    { role: "user", content: String(input.text ?? "") },
  ],
  max_tokens: 64,
});
console.log(JSON.stringify({ summary: r.choices[0]?.message?.content ?? "" }));
`;
  const pkg = { name, version: "0.1.0", private: true, type: "module", dependencies: { openai: "6.49.0" } };
  return {
    "cloister.agent.json": `${JSON.stringify(manifest, null, 2)}\n`,
    "index.mjs": index,
    "package.json": `${JSON.stringify(pkg, null, 2)}\n`,
  };
}
