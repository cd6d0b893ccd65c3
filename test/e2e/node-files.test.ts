/**
 * Issue 7 item 10 against `cloister up` itself: what the node leaves on disk is private to
 * its user, what the usage table stores is bounded by the models it serves, and the
 * public report does not tell the world where the operator keeps the model.
 */
import { chmodSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storePath } from "../../src/store/sqlite.js";
import { testModelPath } from "../fixtures/tiny-gguf.js";
import { startNode, tempDataDir, type RunningNode } from "./node-harness.js";

const mode = (p: string): number => statSync(p).mode & 0o777;
let node: RunningNode;
let modelPath = "";

beforeAll(async () => {
  modelPath = await testModelPath();
  // A data dir and store left world-readable by an older version: tightened at start.
  const dataDir = join(tempDataDir(), "data");
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755);
  writeFileSync(storePath(dataDir), "", { mode: 0o644 });
  chmodSync(storePath(dataDir), 0o644);
  node = await startNode(["--model", modelPath, "--no-auth", "--tee", "simulated"], dataDir);
});
afterAll(async () => {
  expect(await node.stop()).toBe(0);
});

describe("the node's files are its user's alone", () => {
  it("data dir 0700; cloister.db and its WAL and SHM files 0600 while the node runs", async () => {
    // One request so the WAL has frames and the SHM index exists.
    const r = await fetch(`${node.url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: (await models())[0], prompt: "Once", max_tokens: 2 }) });
    expect(r.status).toBe(200);
    const db = storePath(node.dataDir);
    expect(mode(node.dataDir)).toBe(0o700);
    for (const f of [db, `${db}-wal`, `${db}-shm`]) expect({ f, mode: mode(f).toString(8) }).toEqual({ f, mode: "600" });
  });
});

async function models(): Promise<string[]> {
  const body = (await (await fetch(`${node.url}/v1/models`)).json()) as { data: { id: string }[] };
  return body.data.map((m) => m.id);
}

describe("usage rows name only models the node serves", () => {
  it("an unknown model is a 404 model_not_found, and its name is not stored", async () => {
    // 50 kB: under the completion body cap for any model (src/gateway/body-bound.ts: its
    // 64 KiB slack alone; a tiny generated model's context adds little), so it reaches the model check.
    const huge = `no-such-model-${"x".repeat(50_000)}`;
    for (const route of ["/v1/chat/completions", "/v1/completions"]) {
      const body = route.includes("chat") ? { model: huge, messages: [{ role: "user", content: "hi" }] } : { model: huge, prompt: "hi" };
      const r = await fetch(`${node.url}${route}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      expect(r.status).toBe(404);
      const e = (await r.json()) as { error: { code: string; message: string } };
      expect(e.error.code).toBe("model_not_found");
      expect(e.error.message).not.toContain("xxxxxxxx");
    }
    const db = new Database(storePath(node.dataDir), { readonly: true });
    try {
      const rows = db.prepare("SELECT model, length(model) AS n FROM usage").all() as { model: string; n: number }[];
      const known = await models();
      for (const row of rows) expect(known).toContain(row.model);
      expect(Math.max(0, ...rows.map((r) => r.n))).toBeLessThan(200);
    } finally {
      db.close();
    }
  });
});

describe("the public attestation report", () => {
  it("does not disclose the model's local file path", async () => {
    const text = await (await fetch(`${node.url}/v1/attestation/report?nonce=${"44".repeat(32)}`)).text();
    expect(text).toContain("sha256");
    expect(text).not.toContain(modelPath);
    expect(text).not.toContain(join(modelPath, ".."));
    expect(text).toContain("local file");
  });
});
