/**
 * Fixtures for the console's browser tests: real in-process nodes (gateway + simulator
 * TEE, GPU off, with a signing key we know so the market can register it), a discovery
 * server answering GET /v1/nodes from the local chain's registry events (src/ledger), the
 * built console, and headless Debian Chromium with axe-core.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { buildBundle } from "../../src/agents/build.js";
import { signBundle } from "../../src/agents/bundle.js";
import { exampleAgentFiles } from "../../src/agents/example.js";
import type { Hub } from "../../src/agents/hub/hub.js";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { createGateway, type GatewayDeps } from "../../src/gateway/app.js";
import { startServer } from "../../src/gateway/server.js";
import type { Chain } from "../../src/ledger/chain.js";
import { createSigner } from "../../src/seal/signing.js";
import { generateE2EKeyPair } from "../../src/seal/e2e/suite.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { fromHex } from "../../src/util/bytes.js";
import { fakeBackend } from "./client-fixtures.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CONSOLE_DIR = `${ROOT}dist/console`;
export const SCREENSHOT_DIR = `${ROOT}test-output/console`;
export const CHROMIUM = "/usr/bin/chromium";

export const hasPlaywright = ((): boolean => {
  try {
    createRequire(import.meta.url).resolve("playwright-core");
    return true;
  } catch {
    return false;
  }
})();
export const chromiumReady = existsSync(CHROMIUM) && hasPlaywright;

/** Builds the console once when `npm run build` has not (vitest run directly). */
export function ensureConsoleBuilt(): void {
  if (existsSync(`${CONSOLE_DIR}/index.html`)) return;
  execFileSync(process.execPath, [`${ROOT}node_modules/vite/bin/vite.js`, "build", "-c", `${ROOT}console/vite.config.ts`, "--logLevel", "error"], { cwd: ROOT, stdio: "inherit" });
}

export interface ConsoleNode {
  readonly url: string;
  /** The node's ecdsa signing key as an account: the enclave address the market registers. */
  readonly enclave: PrivateKeyAccount;
  close(): Promise<void>;
}

export async function startConsoleNode(opts: { corsOrigins?: readonly string[]; consoleDir?: string | null; agents?: GatewayDeps["agents"]; gpu?: boolean } = {}): Promise<ConsoleNode> {
  const key = generatePrivateKey();
  const store = openSqliteStore({ path: ":memory:" });
  const app = createGateway({
    backend: fakeBackend(),
    tee: createSimulatorProvider({ gpu: opts.gpu ?? false }),
    store,
    authRequired: false,
    signers: { ecdsa: createSigner("ecdsa", fromHex(key)), ed25519: createSigner("ed25519") },
    e2e: { ...generateE2EKeyPair(), required: true },
    limits: { reportRateLimit: { burst: 100_000, perSecond: 100_000 } },
    consoleDir: opts.consoleDir === undefined ? CONSOLE_DIR : opts.consoleDir,
    ...(opts.corsOrigins ? { corsOrigins: opts.corsOrigins } : {}),
    ...(opts.agents ? { agents: opts.agents } : {}),
  });
  const server = await startServer(app, { host: "127.0.0.1", port: 0 });
  return {
    url: server.url,
    enclave: privateKeyToAccount(key),
    close: async () => {
      await server.close({ drainMs: 50 });
      await store.close();
    },
  };
}

/**
 * GET /v1/nodes in the documented discovery shape, read from the chain's registry events
 * on every request (a stand-in for the node's own route while it is being built; the
 * console reads only this shape). Public, read-only data, readable from every origin.
 */
export async function startDiscovery(chain: Chain): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url?.split("?")[0] !== "/v1/nodes") {
      res.writeHead(404).end();
      return;
    }
    void (async () => {
      const block = await chain.blockNumber();
      const now = await chain.chainTime();
      const nodes = (await chain.nodeEvents(0n, block)).filter((n) => n.expiresAt > now);
      const body = {
        object: "list",
        data: nodes.map((n) => ({
          enclave: n.enclave,
          operator: n.operator,
          payout: n.payout,
          endpoint: n.endpoint,
          region: n.region,
          location: { lat: n.lat, lon: n.lon },
          models: n.prices.map((p) => ({ id: p.model, priceVersion: n.priceVersion, promptPerMillion: p.promptPerMTok.toString(), completionPerMillion: p.completionPerMTok.toString() })),
          measurementsDigest: n.measurementsDigest,
          expiresAt: Number(n.expiresAt),
          distanceKm: null,
        })),
        indexedBlock: Number(block),
        finalizedBlock: Number(block),
      };
      res.writeHead(200, { "content-type": "application/json", "access-control-allow-origin": "*" }).end(JSON.stringify(body));
    })().catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Publishes the `cloister agent init` example (built with esbuild, signed), with an egress
 * host and `metrics` observability, into a hub in process: POST /v1/agents is E2E-sealed but
 * unsigned, so a node that requires E2E takes it only from a sealed client that expects no
 * signature; the console reads the listing over HTTP as every visitor does.
 */
export async function publishExampleAgent(hub: Hub): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "console-agent-"));
  try {
    const files = exampleAgentFiles("summarise", "fake");
    const manifest = JSON.parse(files["cloister.agent.json"] ?? "{}") as Record<string, unknown>;
    files["cloister.agent.json"] = JSON.stringify({ ...manifest, egress: ["api.weather.example"], observability: "metrics" });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    const signed = signBundle(await buildBundle(dir, { nodePaths: [`${ROOT}node_modules`] }), ed25519.utils.randomSecretKey());
    hub.publish(JSON.parse(JSON.stringify(signed)) as unknown);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return `${SCREENSHOT_DIR}/${name}.png`;
}

export const AXE_SOURCE = (): string => readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** This machine has no internet: keep Chromium from phoning home at start. */
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
