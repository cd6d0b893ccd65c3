/**
 * The node's life outside the happy path: API keys end to end, upstream mode, draining
 * streams on shutdown, and usage that survives a SIGKILL mid-request.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { openNodeStore } from "../../src/store/postgres-select.js";
import { openSqliteStore, storePath } from "../../src/store/sqlite.js";
import { spawnUpstreamServer, type UpstreamProcess } from "../fixtures/spawn-upstream.js";
import { CANNED_TOKENS } from "../fixtures/upstream-server.js";
import { startNode, tempDataDir } from "./node-harness.js";

function capture(dataDir: string) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), env: { HOME: dataDir }, cwd: process.cwd() } };
}

const upstreams: UpstreamProcess[] = [];
afterAll(async () => {
  await Promise.all(upstreams.map((u) => u.close()));
});

describe("API keys", () => {
  it("create prints a key once, list never shows it, and a revoked key gets 401 from the node", async () => {
    const dataDir = tempDataDir();
    const created = capture(dataDir);
    expect(await main(["keys", "create", "--name", "ci", "--data-dir", dataDir], created.io)).toBe(0);
    const key = created.out.join("").trim();
    expect(key).toMatch(/^sk-cloister-[A-Za-z0-9_-]{43}$/);

    const listed = capture(dataDir);
    expect(await main(["keys", "list", "--data-dir", dataDir], listed.io)).toBe(0);
    const table = listed.out.join("\n");
    expect(table).toContain("ci");
    expect(table).not.toContain(key);
    const id = /(key_[0-9a-f]+)/.exec(table)?.[1] ?? "";

    const upstream = await spawnUpstreamServer();
    upstreams.push(upstream);
    const node = await startNode(["--upstream", upstream.url, "--tee", "simulated"], dataDir);
    try {
      const good = new OpenAI({ baseURL: `${node.url}/v1`, apiKey: key, maxRetries: 0 });
      const r = await good.chat.completions.create({ model: "canned", messages: [{ role: "user", content: "hi" }] });
      expect(r.choices[0]?.message.content).toBe(CANNED_TOKENS.join(""));
      const wrong = new OpenAI({ baseURL: `${node.url}/v1`, apiKey: "sk-cloister-nope", maxRetries: 0 });
      // (GET /v1/models is public: the report names the models, and E2E clients send no key in the clear.)
      await expect(wrong.chat.completions.create({ model: "canned", messages: [{ role: "user", content: "hi" }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);

      expect(await main(["keys", "revoke", id, "--data-dir", dataDir], capture(dataDir).io)).toBe(0);
      const after = await fetch(`${node.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "canned", messages: [{ role: "user", content: "hi" }] }),
      });
      expect(after.status).toBe(401);
      expect((await after.json()).error).toMatchObject({ code: "invalid_api_key", type: "authentication_error" });
      // The attestation report stays public: clients verify before they hold a key.
      expect((await fetch(`${node.url}/v1/attestation/report?nonce=${"33".repeat(32)}`)).status).toBe(200);
    } finally {
      await node.stop();
    }
    const usage = await openSqliteStore({ path: storePath(dataDir) }).listUsage();
    expect(usage.find((u) => u.status === "ok")).toMatchObject({ keyId: id, model: "canned", completionTokens: CANNED_TOKENS.length });
    const bad = capture(dataDir);
    expect(await main(["keys", "revoke", "key_unknown", "--data-dir", dataDir], bad.io)).toBe(1);
  });
});

describe("upstream mode and shutdown", () => {
  it("proxies a stream from an upstream process and drains it on shutdown instead of cutting it", async () => {
    const upstream = await spawnUpstreamServer();
    upstreams.push(upstream);
    const node = await startNode(["--upstream", upstream.url, "--no-auth", "--tee", "simulated"]);
    const client = new OpenAI({ baseURL: `${node.url}/v1`, apiKey: "x", maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: "canned-slow", messages: [{ role: "user", content: "hi" }], max_tokens: 15, stream: true });
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    const stopped = node.stop();
    let text = "";
    let finish: string | null | undefined = null;
    for (let r = await it.next(); !r.done; r = await it.next()) {
      text += r.value.choices[0]?.delta.content ?? "";
      finish = r.value.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("length");
    expect(text.length).toBeGreaterThan(0);
    expect(await stopped).toBe(0);
    await expect(fetch(`${node.url}/health`)).rejects.toThrow();
  });
});

describe("kill safety", () => {
  it("keeps the usage row of a request in flight when the node is SIGKILLed, marked interrupted at the next start", async () => {
    const upstream = await spawnUpstreamServer();
    upstreams.push(upstream);
    const dataDir = tempDataDir();
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("./node-child.ts", import.meta.url)), "up", "--upstream", upstream.url, "--no-auth", "--tee", "simulated", "--port", "0", "--data-dir", dataDir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /at (http:\/\/[^ ]+)\/v1/.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.once("exit", (code) => reject(new Error(`node exited early (${code})`)));
    });
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "canned-slow", messages: [{ role: "user", content: "hi" }], stream: true }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    await reader.cancel().catch(() => undefined);

    // Opened as the node itself would reopen it: same data dir, so the same node id.
    const store = await openNodeStore({ url: undefined, dataDir });
    expect(store.interruptedAtOpen).toBe(1);
    const rows = await store.listUsage();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ model: "canned-slow", status: "interrupted", route: "/v1/chat/completions" });
    await store.close();
  });
});
