/**
 * The release-log policy against a real (simulated) node and a log served over HTTP:
 * a client that names a release log accepts the node only when its measurements are a
 * published release, proven by inclusion, and notices a log that forks.
 */
import { mkdtempSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { memoryCheckpointState } from "../../src/transparency/log-reader.js";
import { serveLogDir, type RunningLogServer } from "../../src/transparency/log-server.js";
import { startTestNode, type TestNode } from "./client-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "cloister-release-log-"));
let node: TestNode;
const servers: RunningLogServer[] = [];
let measurements: Record<string, string> = {};
let logKey = "";

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`), env: {}, cwd: dir });
  return { code, out: out.trim(), err };
}

async function publish(logDir: string, release: Record<string, string>, file: string): Promise<void> {
  const flags = Object.entries(release).flatMap(([k, v]) => ["--measurement", `${k}=${v}`]);
  const r = await cli("log", "release", "--key", "signer.key", "--component", "node", "--name", "cloister-node", "--version", "0.1.0", "--commit", "d8e1601abcdef", ...flags);
  expect(r.code, r.err).toBe(0);
  writeFileSync(join(dir, file), r.out);
  expect((await cli("log", "append", logDir, "--key", "log.key", file)).code).toBe(0);
}

beforeAll(async () => {
  node = await startTestNode();
  const probe = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true });
  measurements = { ...((await probe.attest()).verification.measurements ?? {}) };
  expect(Object.keys(measurements).length).toBeGreaterThan(0);
  expect((await cli("log", "keygen", "--out", "log.key")).code).toBe(0);
  expect((await cli("log", "keygen", "--out", "signer.key")).code).toBe(0);
  const init = await cli("log", "init", "log", "--origin", "test.cloister/releases", "--key", "log.key");
  expect(init.code, init.err).toBe(0);
  logKey = init.out;
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(sub: string): Promise<string> {
  const s = await serveLogDir(join(dir, sub));
  servers.push(s);
  return s.url;
}

describe("a client that trusts only published releases", () => {
  it("refuses a node whose measurements are not in the log (unpublished code)", async () => {
    await publish("log", { mrtd: "00".repeat(48) }, "other.json");
    const url = await serve("log");
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, releaseLog: { url, key: logKey } });
    await expect(f.attest()).rejects.toMatchObject({ code: "ATTESTATION_FAILED", details: { attestCodes: expect.arrayContaining(["MEASUREMENT_NOT_RELEASED"]) } });
  });

  it("accepts the node once its release is published, and says which entry proved it", async () => {
    await publish("log", measurements, "node.json");
    const url = await serve("log");
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, releaseLog: { url, key: logKey } });
    const pinned = await f.attest();
    expect(pinned.verification).toMatchObject({ release: { index: 1, treeSize: 2, release: { statement: { name: "cloister-node", measurements } } } });
    const v = await cli("log", "verify", url, "--log-key", logKey, "--json", ...Object.entries(measurements).flatMap(([k, m]) => ["--measurement", `${k}=${m}`]));
    expect(v.code, v.err).toBe(0);
    expect(JSON.parse(v.out)).toMatchObject({ size: 2, releases: 2, match: { index: 1 } });
  });

  it("detects a log that shows this client a different history than before (a fork)", async () => {
    cpSync(join(dir, "log"), join(dir, "fork"), { recursive: true });
    await publish("log", { mrtd: "11".repeat(48) }, "third.json");
    await publish("fork", { mrtd: "22".repeat(48) }, "forked.json");
    const state = memoryCheckpointState();
    const honest = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, releaseLog: { url: await serve("log"), key: logKey, state } });
    await honest.attest();
    const forked = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, releaseLog: { url: await serve("fork"), key: logKey, state } });
    await expect(forked.attest()).rejects.toMatchObject({ details: { attestCodes: expect.arrayContaining(["LOG_FORKED"]) } });
  });

  it("refuses a release log signed by another key", async () => {
    const other = await cli("log", "keygen", "--out", "other.key", "--name", "test.cloister/releases");
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, releaseLog: { url: await serve("log"), key: other.out } });
    await expect(f.attest()).rejects.toMatchObject({ details: { attestCodes: expect.arrayContaining(["LOG_CHECKPOINT_SIGNATURE_INVALID"]) } });
  });
});
