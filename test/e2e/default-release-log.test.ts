/**
 * The verifying client's DEFAULT policy is the release log: with no policy and no log
 * named, a node running unpublished code is refused. Against a real (simulated) node and
 * logs served over HTTP; the CLI keeps the last checkpoint in its data dir, so a fork
 * between two runs is its own error.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.js";
import { defaultReportVerifier } from "../../src/client/default-verifier.js";
import { DEFAULT_RELEASE_LOG, resolveReleaseLog } from "../../src/client/release-log-default.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import type { ReportVerifier } from "../../src/client/verifier.js";
import { serveLogDir, type RunningLogServer } from "../../src/transparency/log-server.js";
import { startTestNode, type TestNode } from "./client-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "cloister-default-log-"));
let node: TestNode;
let log: RunningLogServer;
let measurements: Record<string, string> = {};
let logKey = "";

async function cli(env: Record<string, string>, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => void (out += `${t}\n`), err: (t) => void (err += `${t}\n`), env, cwd: dir });
  return { code, out: out.trim(), err };
}

async function publish(logDir: string, release: Record<string, string>, file: string): Promise<void> {
  const flags = Object.entries(release).flatMap(([k, v]) => ["--measurement", `${k}=${v}`]);
  const r = await cli({}, "log", "release", "--key", "signer.key", "--component", "node", "--name", "cloister-node", "--version", "0.2.0", "--commit", "abcdef1234567", ...flags);
  expect(r.code, r.err).toBe(0);
  writeFileSync(join(dir, file), r.out);
  expect((await cli({}, "log", "append", logDir, "--key", "log.key", file)).code).toBe(0);
}

/** What the verifier says of a node on TEE hardware: the same verdict, not simulated. */
const asHardware: ReportVerifier = async (r, o) => ({ ...(await defaultReportVerifier(r, o)), simulated: false });

beforeAll(async () => {
  node = await startTestNode();
  // The policy that stands in for a log: these exact measurements, pinned by the caller.
  const probe = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, policy: { measurements: { mrtd: ["00".repeat(48)] } } });
  await expect(probe.attest()).rejects.toMatchObject({ code: "ATTESTATION_FAILED" });
  const pinned = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true });
  measurements = { ...((await pinned.attest()).verification.measurements ?? {}) };
  await cli({}, "log", "keygen", "--out", "log.key");
  await cli({}, "log", "keygen", "--out", "signer.key");
  logKey = (await cli({}, "log", "init", "log", "--origin", "test.cloister/default", "--key", "log.key")).out;
  await publish("log", { mrtd: "ab".repeat(48) }, "other.json");
  log = await serveLogDir(join(dir, "log"));
});

afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(async () => {
  await log?.close();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the client's default policy is the release log", () => {
  it("resolves the log: the option, else $CLOISTER_RELEASE_LOG(+_KEY), else Cloister's pinned one; a pinning policy stands in for the default", () => {
    const named = { url: "http://x/", key: logKey };
    expect(resolveReleaseLog({ releaseLog: named, policyPins: true }, {})?.source).toBe("option");
    expect(resolveReleaseLog({ policyPins: false }, { CLOISTER_RELEASE_LOG: "http://y/", CLOISTER_RELEASE_LOG_KEY: logKey })).toMatchObject({ source: "env", log: { url: "http://y/" } });
    expect(resolveReleaseLog({ policyPins: false }, {})).toMatchObject({ source: "default", log: { url: DEFAULT_RELEASE_LOG.url, key: DEFAULT_RELEASE_LOG.key } });
    expect(resolveReleaseLog({ policyPins: true }, {})).toBeNull();
    expect(() => resolveReleaseLog({ policyPins: false }, { CLOISTER_RELEASE_LOG: "http://y/" })).toThrow(/both/);
  });

  it("with no policy, refuses a node whose measurements are not in the log, and accepts it once they are published", async () => {
    vi.stubEnv("CLOISTER_RELEASE_LOG", log.url);
    vi.stubEnv("CLOISTER_RELEASE_LOG_KEY", logKey);
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true });
    await expect(f.attest()).rejects.toMatchObject({ code: "ATTESTATION_FAILED", details: { attestCodes: expect.arrayContaining(["MEASUREMENT_NOT_RELEASED"]) } });
    await publish("log", measurements, "node.json");
    const g = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true });
    expect((await g.attest()).verification).toMatchObject({ release: { index: 1, release: { statement: { version: "0.2.0" } } } });
  });

  it("with nothing configured, asks Cloister's own log and refuses a log that its pinned key did not sign", async () => {
    const asked: string[] = [];
    // Every request for the shipped log's URL goes to our log, signed by another key.
    const redirected: typeof fetch = (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      if (url.startsWith(DEFAULT_RELEASE_LOG.url)) {
        asked.push(url);
        return fetch(url.replace(DEFAULT_RELEASE_LOG.url, log.url), init);
      }
      return fetch(input, init);
    };
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, verifyReport: asHardware, fetch: redirected, onFailure: "throw" });
    await expect(f.attest()).rejects.toMatchObject({ code: "ATTESTATION_FAILED", details: { attestCodes: expect.arrayContaining(["LOG_CHECKPOINT_SIGNATURE_INVALID"]) } });
    expect(asked).toEqual([`${DEFAULT_RELEASE_LOG.url}checkpoint`]);
  });

  it("a simulated node accepted with allowSimulated skips only the shipped log (nothing is fetched from it); a named log still applies", async () => {
    const asked: string[] = [];
    const recording: typeof fetch = (input, init) => {
      asked.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, fetch: recording });
    expect((await f.attest()).verification).toMatchObject({ releaseLogSkipped: "simulated" });
    expect(asked.some((u) => u.startsWith(DEFAULT_RELEASE_LOG.url))).toBe(false);
    const strict = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: false });
    await expect(strict.attest()).rejects.toMatchObject({ code: "ATTESTATION_FAILED" });
  });

  it("a policy that pins the node's measurements stands in for the log (on hardware, no log is asked)", async () => {
    const noLog: typeof fetch = (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      return url.startsWith(DEFAULT_RELEASE_LOG.url) ? Promise.reject(new Error("no log may be fetched")) : fetch(input, init);
    };
    const pinned = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, verifyReport: asHardware, fetch: noLog, policy: { measurements: { mrtd: [measurements["mrtd"] ?? ""] } } });
    expect((await pinned.attest()).verification).not.toHaveProperty("release");
    const unpinned = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, verifyReport: asHardware, fetch: noLog, policy: { acceptUnchecked: ["tcb"] } });
    await expect(unpinned.attest()).rejects.toMatchObject({ details: { attestCodes: expect.arrayContaining(["LOG_UNREACHABLE"]) } });
  });
});

describe("cloister chat / verify --release-log", () => {
  it("chat: published code is accepted and the entry named; a fork seen on a later run is RELEASE_LOG_FORKED", async () => {
    const dataDir = join(dir, "data");
    const env = { CLOISTER_DATA_DIR: dataDir };
    const ok = await cli(env, "chat", "--url", node.url, "--allow-simulated", "--release-log", log.url, "--release-log-key", logKey, "--json", "hi");
    expect(ok.code, ok.err).toBe(0);
    expect(JSON.parse(ok.out.split("\n").at(-1) ?? "")).toMatchObject({ verified: true, release: { index: 1, version: "0.2.0" } });

    cpSync(join(dir, "log"), join(dir, "fork"), { recursive: true });
    await publish("log", { mrtd: "11".repeat(48) }, "third.json");
    await publish("fork", { mrtd: "22".repeat(48) }, "forked.json");
    const again = await cli(env, "chat", "--url", node.url, "--allow-simulated", "--release-log", log.url, "--release-log-key", logKey, "--json", "hi");
    expect(again.code, again.err).toBe(0);
    const fork = await serveLogDir(join(dir, "fork"));
    try {
      const forked = await cli(env, "chat", "--url", node.url, "--allow-simulated", "--release-log", fork.url, "--release-log-key", logKey, "--json", "hi");
      expect(forked.code).toBe(1);
      expect(JSON.parse(forked.out.split("\n").at(-1) ?? "")).toMatchObject({ verified: false, error: { code: "RELEASE_LOG_FORKED" } });
    } finally {
      await fork.close();
    }
  });

  it("chat: half a release-log configuration is a usage error, not a fallback", async () => {
    const r = await cli({}, "chat", "--url", node.url, "--allow-simulated", "--release-log", log.url, "hi");
    expect(r.code).toBe(2);
  });

  it("verify: adds the release check to a live node's verification", async () => {
    const env = { CLOISTER_DATA_DIR: join(dir, "data-verify") };
    const ok = await cli(env, "verify", node.url, "--allow-simulated", "--release-log", log.url, "--release-log-key", logKey, "--json");
    expect(ok.code, ok.out).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ verified: true, checks: expect.arrayContaining([expect.objectContaining({ name: "release log: measurements published", ok: true })]) });
    const other = await cli({}, "log", "keygen", "--out", "other.key");
    expect(other.code).toBe(0);
    const otherKey = (await cli({}, "log", "init", "otherlog", "--origin", "test.cloister/default", "--key", "other.key")).out;
    const bad = await cli(env, "verify", node.url, "--allow-simulated", "--release-log", log.url, "--release-log-key", otherKey, "--json");
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out)).toMatchObject({ verified: false, errors: expect.arrayContaining([expect.objectContaining({ code: "LOG_CHECKPOINT_SIGNATURE_INVALID" })]) });
  });
});
