/**
 * `cloister up --register --token-price WEI`, the real command as a child process beside a
 * real local chain (anvil), --require-e2ee: a user buys Privacy Pass tokens with a spend permit, chats
 * with one token and no API key and no permit, the node is SIGKILLed (nothing settles at
 * stop), and `cloister settle` pays the token purchase from the node's receipt store:
 * exactly tokens × price leaves the user's escrow balance and reaches the operator (and
 * the protocol treasury's fee share, when one is set).
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createPublicClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { foundry } from "viem/chains";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliOk } from "./cli-run.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { ANVIL_KEYS } from "../../src/ledger/anvil.js";
import { Escrow } from "../../src/ledger/contracts/artifacts.js";
import { createEvmChain } from "../../src/ledger/evm-chain.js";
import { startLocalChain, type LocalChain } from "../../src/ledger/local-chain.js";
import { ZERO_ADDRESS, ZERO_HASH, type EvmAddress } from "../../src/ledger/typed-data.js";
import { serveLogDir, type RunningLogServer } from "../../src/transparency/log-server.js";
import { TokenWallet } from "../../src/transparency/tokens/wallet.js";
import { spawnUpstreamServer, type UpstreamProcess } from "../fixtures/spawn-upstream.js";
import { tempDataDir } from "./node-harness.js";

const CHILD = fileURLToPath(new URL("./node-child.ts", import.meta.url));
const MODEL = "canned";
const TOKEN_PRICE = 123_456_789n;
const OPERATOR = ANVIL_KEYS[1];
const USER = ANVIL_KEYS[3];

let local: LocalChain;
let upstream: UpstreamProcess;
let log: RunningLogServer | undefined;
let child: ChildProcessWithoutNullStreams | undefined;
let exited: Promise<void> = Promise.resolve();
const chainDir = tempDataDir();
const nodeDir = tempDataDir();
const logDir = tempDataDir();

const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> => cliOk(args, { cwd: logDir, env });

async function spawnNode(extra: string[]): Promise<{ url: string; enclave: EvmAddress; out: () => string }> {
  const args = ["--import", "tsx", CHILD, "up", "--no-auth", "--tee", "simulated", "--host", "127.0.0.1", "--port", "0", "--upstream", upstream.url, "--data-dir", nodeDir, "--register", "--market", join(chainDir, "market.json"), "--price", `${MODEL}=1000/1000`, "--settle-every", "0", ...extra];
  const c = spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, CLOISTER_CHAIN_KEY: OPERATOR } });
  child = c;
  exited = new Promise<void>((r) => c.once("exit", () => r()));
  let out = "";
  let err = "";
  c.stderr.on("data", (d: Buffer) => void (err += d.toString()));
  return new Promise((resolve, reject) => {
    c.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const url = /at (http:\/\/[^ ]+)\/v1/.exec(out)?.[1];
      const enclave = /registered enclave (0x[0-9a-fA-F]{40})/.exec(out)?.[1];
      if (url && enclave && out.includes("tokens: sold")) resolve({ url, enclave: enclave.toLowerCase() as EvmAddress, out: () => out + err });
    });
    c.once("exit", (code) => reject(new Error(`node exited (${code}): ${(out + err).slice(-2000)}`)));
  });
}

async function kill(): Promise<void> {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await exited;
}

beforeAll(async () => {
  local = await startLocalChain({ dataDir: chainDir });
  upstream = await spawnUpstreamServer();
}, 90_000);
afterAll(async () => {
  await kill();
  await log?.close();
  await upstream?.close();
  await local?.stop();
});

describe("cloister up sells anonymous tokens through the escrow", () => {
  it("buys tokens with a permit, chats with a token and no key or permit, and cloister settle pays exactly tokens × price", async () => {
    // --require-e2ee: the purchase, like every POST, must come sealed.
    const node = await spawnNode(["--token-price", TOKEN_PRICE.toString(), "--require-e2ee"]);
    const baseURL = `${node.url}/v1`;

    // The operator publishes this boot's issuer key in a release log (the wallet refuses any other).
    await cli(["log", "keygen", "--out", "log.key"]);
    await cli(["log", "keygen", "--out", "rel.key"]);
    const logKey = await cli(["log", "init", "releases", "--origin", "test.cloister/releases", "--key", "log.key"]);
    writeFileSync(join(logDir, "k.json"), await cli(["log", "token-key", "--key", "rel.key", "--from", node.url, "--epoch", "2026-12"]));
    await cli(["log", "append", "releases", "--key", "log.key", "k.json"]);
    log = await serveLogDir(join(logDir, "releases"));

    // The user deposits and signs a permit for this node's enclave.
    const m = local.market;
    const user = createEvmChain({ rpcUrl: m.rpcUrl, chainId: m.chainId, addresses: m.addresses, account: privateKeyToAccount(USER) });
    await user.deposit(ZERO_ADDRESS, 10n ** 15n);
    const permit = await user.signPermit({ node: node.enclave, policy: ZERO_HASH, token: ZERO_ADDRESS, maxAmount: 10n ** 12n, expiry: (await user.chainTime()) + 3600n, nonce: 1n });
    const userAddress = privateKeyToAccount(USER).address.toLowerCase() as EvmAddress;
    const escrow = { chainId: m.chainId, address: m.addresses.escrow };
    const plain = new TokenWallet({ baseURL, releaseLog: { url: log.url, key: logKey } });
    await expect(plain.buyWithPermit(1, permit, escrow)).rejects.toThrow(/e2e_required/);
    expect(plain.size).toBe(0);
    // Sealed to the attested node by the verifying fetch, signed by its enclave key.
    const f = createVerifiedFetch({ baseURL, allowSimulated: true });
    const wallet = new TokenWallet({ baseURL, releaseLog: { url: log.url, key: logKey }, sealedFetch: f });
    await wallet.buyWithPermit(2, permit, escrow);
    const last = await wallet.buyWithPermit(1, permit, escrow);
    expect(wallet.size).toBe(3);
    expect(last.receipt).toMatchObject({ seq: 2n, cumulative: 3n * TOKEN_PRICE, promptTokens: 1n, enclave: node.enclave });
    // The sale gives nothing away for an API key: tokens come only through the escrow.
    await expect(f(`${baseURL}/tokens/issue`, { method: "POST", headers: { "content-type": "application/private-token-request" }, body: new Uint8Array(8) })).resolves.toMatchObject({ status: 404 });

    // A chat through the verifying fetch (E2E: the token travels sealed), no API key, no permit.
    const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "hello" }] });
    const token = wallet.spend();
    const res = await f(`${baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: token }, body });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(answer.choices[0]?.message.content.length).toBeGreaterThan(0);
    // Spent once; and without a token the market node still wants a permit.
    await expect(f(`${baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json", authorization: token }, body })).resolves.toMatchObject({ status: 401 });
    await expect(f(`${baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body })).resolves.toMatchObject({ status: 402 });

    // SIGKILL: nothing settles at stop; `cloister settle` pays from the node's receipt store.
    await kill();
    const pub = createPublicClient({ chain: { ...foundry, id: m.chainId }, transport: http(m.rpcUrl) });
    const read = (fn: "protocolFeeBps" | "treasury"): Promise<unknown> => pub.readContract({ address: m.addresses.escrow, abi: Escrow.abi, functionName: fn, args: [] });
    const feeBps = BigInt(Number(await read("protocolFeeBps")));
    const treasury = (await read("treasury")) as EvmAddress;
    const payout = privateKeyToAccount(OPERATOR).address.toLowerCase() as EvmAddress;
    const userBefore = await user.balance(userAddress, ZERO_ADDRESS);
    const payoutBefore = await user.claimable(payout, ZERO_ADDRESS);
    const treasuryBefore = await user.claimable(treasury, ZERO_ADDRESS);
    const settled = JSON.parse(await cli(["settle", "--data-dir", nodeDir, "--market", join(chainDir, "market.json"), "--json"], { CLOISTER_CHAIN_KEY: OPERATOR })) as { settled: number };
    expect(settled.settled).toBe(1);
    const due = 3n * TOKEN_PRICE;
    const fee = (due * feeBps) / 10_000n;
    expect(userBefore - (await user.balance(userAddress, ZERO_ADDRESS))).toBe(due);
    expect((await user.claimable(payout, ZERO_ADDRESS)) - payoutBefore).toBe(due - fee);
    expect((await user.claimable(treasury, ZERO_ADDRESS)) - treasuryBefore + ((await user.claimable(payout, ZERO_ADDRESS)) - payoutBefore)).toBe(due);
  }, 120_000);
});
