/**
 * Buying Privacy Pass tokens with an API key on a node that takes only sealed requests,
 * through a real proxy in front of it that records everything it relays (where TLS ends).
 * The purchase goes through the verifying fetch: the key travels inside the envelope and
 * the blinded token request keeps its own media type (application/private-token-request),
 * bound into the envelope's aad, so a proxy that relabels it makes the envelope fail.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliOk } from "./cli-run.js";
import { ClientCode } from "../../src/client/codes.js";
import { clientErrorOf } from "../../src/client/failure.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { E2E_CONTENT_TYPE, E2EHeader } from "../../src/seal/e2e/headers.js";
import { serveLogDir, type RunningLogServer } from "../../src/transparency/log-server.js";
import { TokenWallet } from "../../src/transparency/tokens/wallet.js";
import { startRecordingProxy, startTestNode, type RecordingProxy, type TestNode } from "./client-fixtures.js";

const dir = mkdtempSync(join(tmpdir(), "cloister-sealed-issue-"));
let node: TestNode;
let proxy: RecordingProxy;
let log: RunningLogServer;
let logKey = "";

/** The request headers of every request the proxy relayed, lowercase names. */
const relayed: Array<{ readonly path: string; readonly headers: Record<string, string> }> = [];
/** When set, the proxy rewrites that header of every request it relays. */
let rewrite: { name: string; value: string | null } | null = null;

const cli = (...args: string[]): Promise<string> => cliOk(args, { cwd: dir });

beforeAll(async () => {
  node = await startTestNode({ requireE2E: true, apiKey: true, tokens: true });
  // The node's issuer key, published for this epoch (the wallet refuses any other).
  await cli("log", "keygen", "--out", "log.key");
  await cli("log", "keygen", "--out", "rel.key");
  logKey = await cli("log", "init", "releases", "--origin", "test.cloister/issuers", "--key", "log.key");
  writeFileSync(join(dir, "k.json"), await cli("log", "token-key", "--key", "rel.key", "--from", node.url, "--epoch", "2026-12"));
  await cli("log", "append", "releases", "--key", "log.key", "k.json");
  log = await serveLogDir(join(dir, "releases"));
  proxy = await startRecordingProxy(node.url);
  proxy.tamper = {
    requestHeaders: (path, pairs) => {
      relayed.push({ path, headers: Object.fromEntries(pairs.map(([k, v]) => [k.toLowerCase(), v])) });
      const r = rewrite;
      if (!r) return undefined;
      const kept = pairs.filter(([k]) => k.toLowerCase() !== r.name);
      return r.value === null ? kept : [...kept, [r.name, r.value]];
    },
  };
});

afterAll(async () => {
  await proxy?.close();
  await log?.close();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

function wallet(): TokenWallet {
  const baseURL = `${proxy.url}/v1`;
  return new TokenWallet({ baseURL, apiKey: node.apiKey as string, releaseLog: { url: log.url, key: logKey }, sealedFetch: createVerifiedFetch({ baseURL, allowSimulated: true }) });
}

describe("buying tokens with an API key on an E2E-only node, through a recording proxy", () => {
  it("buys sealed: the proxy sees neither the key nor a token request, and the tokens pay for a chat", async () => {
    relayed.length = 0;
    proxy.exchanges.length = 0;
    const w = wallet();
    await w.buy(2);
    expect(w.size).toBe(2);
    expect(proxy.exchanges.filter((x) => x.method === "POST" && x.path === "/v1/tokens/issue")).toHaveLength(2);
    const issues = relayed.filter((r) => r.path === "/v1/tokens/issue");
    expect(issues).toHaveLength(2);
    for (const r of issues) {
      expect(r.headers["content-type"]).toBe(E2E_CONTENT_TYPE);
      expect(r.headers[E2EHeader.contentType]).toBe("application/private-token-request");
      expect(r.headers["authorization"]).toBeUndefined();
    }
    const everything = proxy.wire();
    expect(everything).not.toContain(node.apiKey as string);
    expect(everything).not.toContain((node.apiKey as string).slice(-16));

    // A token bought this way is good for one sealed chat, with no key.
    const f = createVerifiedFetch({ baseURL: `${proxy.url}/v1`, allowSimulated: true });
    const res = await f(`${proxy.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: w.spend() }, body: JSON.stringify({ model: "fake", messages: [{ role: "user", content: "hi" }] }) });
    expect(res.status).toBe(200);
  });

  it("a proxy that relabels, drops or adds the sealed body's media type gets the envelope refused, and nothing is issued", async () => {
    for (const r of [
      { name: E2EHeader.contentType, value: "application/json; x=1" },
      { name: E2EHeader.contentType, value: null },
    ]) {
      rewrite = r;
      try {
        const w = wallet();
        // The verifying fetch answers a refused envelope with its own failure (E2E_REJECTED, final).
        await expect(w.buy(1)).rejects.toThrow(/the issuer refused \(HTTP \d+\)/);
        expect(w.size).toBe(0);
      } finally {
        rewrite = null;
      }
    }
    // Added to a JSON request: the node reads the header, so the aad no longer matches.
    rewrite = { name: E2EHeader.contentType, value: "text/plain" };
    try {
      const f = createVerifiedFetch({ baseURL: `${proxy.url}/v1`, allowSimulated: true });
      const res = await f(`${proxy.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${node.apiKey as string}` }, body: JSON.stringify({ model: "fake", messages: [{ role: "user", content: "hi" }] }) });
      expect(res.ok).toBe(false);
      expect(clientErrorOf(res)).toMatchObject({ code: ClientCode.E2E_REJECTED, details: { nodeCode: "e2e_decrypt_failed" } });
    } finally {
      rewrite = null;
    }
  });
});
