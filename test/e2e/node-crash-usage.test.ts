/**
 * Issue 7 item 12: a crash must not forget what was served. Real `cloister up` child
 * processes, killed with SIGKILL after tokens reached the client; the usage row is read
 * back after a restart. With several nodes on one PostgreSQL store, a node that starts
 * recovers only its own rows. PostgreSQL tests skip, loudly, where no server answers.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { redactPostgresUrl } from "../../src/store/postgres.js";
import { openSqliteStore, storePath } from "../../src/store/sqlite.js";
import { spawnUpstreamServer, type UpstreamProcess } from "../fixtures/spawn-upstream.js";
import { testModelPath } from "../fixtures/tiny-gguf.js";
import { tempDataDir } from "./node-harness.js";

const CHILD = fileURLToPath(new URL("./node-child.ts", import.meta.url));

interface ChildNode {
  readonly url: string;
  readonly child: ChildProcessWithoutNullStreams;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

const children: ChildNode[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.kill()));
});

async function spawnNode(args: string[], env: Record<string, string> = {}): Promise<ChildNode> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, "up", "--no-auth", "--tee", "simulated", "--host", "127.0.0.1", "--port", "0", "--threads", "1", ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /at (http:\/\/[^ ]+)\/v1/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.stderr.on("data", (d: Buffer) => void (err += d.toString()));
    child.once("exit", (code) => reject(new Error(`node exited early (${code}): ${err}`)));
  });
  const node: ChildNode = {
    url,
    child,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
  children.push(node);
  return node;
}

/** Starts a stream and reads until `minChunks` content chunks arrived; the reader stays open. */
async function streamUntil(url: string, body: Record<string, unknown>, minChunks: number): Promise<{ chunks: number; cancel: () => Promise<void> }> {
  const res = await fetch(`${url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...body, stream: true }) });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = "";
  let chunks = 0;
  while (chunks < minChunks) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended after ${chunks} chunks, before the kill`);
    text += dec.decode(value, { stream: true });
    chunks = (text.match(/"text":"[^"]/g) ?? []).length;
    if (text.includes("[DONE]")) throw new Error("the stream finished before the kill");
  }
  return { chunks, cancel: () => reader.cancel().catch(() => undefined) };
}

describe("usage survives a SIGKILL mid-stream (SQLite)", () => {
  it("the row holds the tokens delivered before the kill, not zero, after a restart", async () => {
    const dataDir = tempDataDir();
    const node = await spawnNode(["--model", await testModelPath(), "--parallel", "1", "--data-dir", dataDir]);
    // Greedy from a story opening: the tiny models keep going for hundreds of tokens.
    const s = await streamUntil(node.url, { model: await firstModel(node.url), prompt: "Once upon a time", max_tokens: 4000, temperature: 0 }, 40);
    await node.kill();
    await s.cancel();
    // The node starts again from the same data dir (its own node id) and recovers its row.
    const again = await spawnNode(["--model", await testModelPath(), "--parallel", "1", "--data-dir", dataDir]);
    await again.stop();

    const store = openSqliteStore({ path: storePath(dataDir), recover: false });
    try {
      const rows = await store.listUsage();
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      expect(row.status).toBe("interrupted");
      expect(row.promptTokens).toBeGreaterThan(0);
      // Written at the first delta and then once a second: at least that first token.
      expect(row.completionTokens).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });
});

async function firstModel(url: string): Promise<string> {
  const body = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
  return body.data[0]?.id ?? "";
}

const PG_URL = process.env["CLOISTER_TEST_PG_URL"] ?? "postgres://postgres@127.0.0.1:5432/test";

async function pgQuery<T extends pg.QueryResultRow>(sql: string, args: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
    return (await c.query<T>(sql, args)).rows;
  } finally {
    await c.end().catch(() => undefined);
  }
}
const pgUp = await pgQuery("SELECT 1").then(
  () => true,
  () => false,
);
const schema = `cloister_crash_${randomBytes(4).toString("hex")}`;
if (pgUp) afterAll(async () => void (await pgQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)));

describe.skipIf(!pgUp)(`two nodes on one PostgreSQL store${pgUp ? "" : ` (skipped: PostgreSQL not reachable at ${redactPostgresUrl(PG_URL)})`}`, () => {
  let upstream: UpstreamProcess | null = null;
  afterAll(async () => void (await upstream?.close()));

  it("a node that starts leaves another node's live stream in_flight, and recovers only its own after a SIGKILL", async () => {
    await pgQuery(`CREATE SCHEMA ${schema}`);
    // Every connection of both nodes uses the test's own schema.
    const store = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
    upstream = await spawnUpstreamServer();
    const dirA = tempDataDir();
    const a = await spawnNode(["--upstream", upstream.url, "--store", store, "--data-dir", dirA]);
    const s = await streamUntil(a.url, { model: "canned-slow", prompt: "hi", max_tokens: 1000 }, 3);
    const rows = () => pgQuery<{ status: string; node_id: string; completion_tokens: number }>(`SELECT status, node_id, completion_tokens FROM ${schema}.usage ORDER BY started_at`);
    expect((await rows()).map((r) => r.status)).toEqual(["in_flight"]);

    // Node B, another process with its own data dir (its own node id), starts on the same store.
    const b = await spawnNode(["--upstream", upstream.url, "--store", store, "--data-dir", tempDataDir()]);
    const afterB = await rows();
    expect(afterB.map((r) => r.status)).toEqual(["in_flight"]);
    const nodeA = afterB[0]!.node_id;

    // A dies mid-stream; B keeps serving; A restarts from its data dir and recovers its row.
    await new Promise((r) => setTimeout(r, 1100)); // let a progress write (once a second) land
    await a.kill();
    await s.cancel();
    const b2 = await streamUntil(b.url, { model: "canned-slow", prompt: "hi", max_tokens: 1000 }, 2);
    const a2 = await spawnNode(["--upstream", upstream.url, "--store", store, "--data-dir", dirA]);
    const final = await rows();
    expect(final.map((r) => [r.node_id === nodeA ? "A" : "B", r.status])).toEqual([
      ["A", "interrupted"],
      ["B", "in_flight"],
    ]);
    expect(Number(final[0]!.completion_tokens)).toBeGreaterThan(0);
    await b2.cancel();
    await a2.stop();
    await b.stop();
  });
});
