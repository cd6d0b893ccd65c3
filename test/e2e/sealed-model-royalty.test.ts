/**
 * The owner of a sealed model is paid for the tokens served, end to end on a real local
 * chain: the owner seals stories260K, registers it on chain (ModelRegistry + the Escrow's
 * royalty share) and uploads 2-of-3 shares to three `cloister kms up --market` brokers; a
 * `cloister up --model X.sealed --kms … --register --market …` node (a process) gets the key,
 * registers through the local verifier quorum and serves; a user deposits, signs a spend
 * permit, and calls it through the verifying fetch at temperature 0 (same text as the plain
 * model); the node settles when it stops, and the owner's claimable royalty is exactly
 * tokens × price × royalty share.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { createModelChain } from "../../src/kms/chain/model-registry.js";
import { SIM_MRTD } from "../../src/kms/test-fixtures.js";
import { ANVIL_KEYS } from "../../src/ledger/anvil.js";
import { createEvmChain } from "../../src/ledger/evm-chain.js";
import { startLocalChain, type LocalChain } from "../../src/ledger/local-chain.js";
import { modelId, ZERO_ADDRESS, ZERO_HASH, type EvmAddress } from "../../src/ledger/typed-data.js";
import { encodePermitHeader, PERMIT_HEADER, receiptFromWire } from "../../src/market/wire.js";
import { sharedPath } from "../../src/util/shared.js";
import { BROKER_READY, cli, NODE_READY, spawnCli, type Child } from "./sealed-processes.js";

const stories = sharedPath("models", "stories260K.gguf");
const MODEL = "stories260K";
/** Token units per million tokens, prompt and completion alike: a request costs exactly 5 per token. */
const PRICE_PER_MTOK = 5_000_000n;
const ROYALTY_BPS = 2000n;
const PROMPT = [{ role: "user", content: "Once upon a time" }];

describe.skipIf(!stories)(`a sealed model's owner is paid for the tokens served${stories ? "" : " (skipped: ../shared missing)"}`, () => {
  const work = mkdtempSync(join(tmpdir(), "cloister-sealed-royalty-"));
  const market = join(work, "chain", "market.json");
  const sealed = join(work, "stories.sealed");
  const procs: Child[] = [];
  let local: LocalChain;
  let urls: string[] = [];
  const run = async (args: string[]): Promise<string> => {
    const r = await cli(args, work);
    if (r.code !== 0) throw new Error(`cloister ${args.join(" ")} failed: ${r.err}`);
    return r.out;
  };

  beforeAll(async () => {
    local = await startLocalChain({ dataDir: join(work, "chain") });
    for (const i of [6, 7, 8]) {
      procs.push(await spawnCli(["kms", "up", "--port", "0", "--tee", "simulated", "--data-dir", join(work, `broker-${i}`), "--market", market], BROKER_READY, { CLOISTER_CHAIN_KEY: ANVIL_KEYS[i]! }));
    }
    urls = procs.map((p) => p.url);
    writeFileSync(join(work, "owner.key"), `${ANVIL_KEYS[5]!.slice(2)}\n`, { mode: 0o600 });
    writeFileSync(join(work, "policy.json"), JSON.stringify({ allowSimulated: true, measurements: { mrtd: [SIM_MRTD] } }));
    await run(["model", "seal", stories!, "--out", sealed, "--model-id", MODEL]);
    await run(["model", "register", "--sealed", sealed, "--owner-key", "owner.key", "--policy", "policy.json", "--price", String(PRICE_PER_MTOK), "--royalty-bps", String(ROYALTY_BPS), "--lease-seconds", "600", "--out", "reg.json", "--chain", "--market", market, "--kms", urls.join(","), "--allow-simulated-kms"]);
    await run(["model", "upload", "--registration", "reg.json", "--key", `${sealed}.key`, "--kms", urls.join(","), "--allow-simulated-kms"]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await local?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it("serves the same text as the plain model to a paying user, settles, and pays the owner exactly tokens × price × royalty share", async () => {
    const operatorKey = ANVIL_KEYS[1]!;
    const price = `${MODEL}=${PRICE_PER_MTOK}/${PRICE_PER_MTOK}`;
    const node = await spawnCli(
      ["up", "--model", sealed, "--kms", urls.join(","), "--kms-allow-simulated", "--tee", "simulated", "--no-auth", "--port", "0", "--data-dir", mkdtempSync(join(work, "node-")), "--threads", "1",
        "--register", "--market", market, "--region", "eu", "--location", "48.8566,2.3522", "--price", price, "--settle-every", "0"],
      NODE_READY,
      { CLOISTER_CHAIN_KEY: operatorKey },
    );
    procs.push(node);
    expect(node.out()).toContain("market: registered");
    const enclave = /signing address (0x[0-9a-f]{40})/.exec(node.out())![1]! as EvmAddress;
    const plain = await spawnCli(["up", "--model", stories!, "--tee", "simulated", "--no-auth", "--port", "0", "--data-dir", mkdtempSync(join(work, "plain-")), "--threads", "1"], NODE_READY);
    procs.push(plain);

    // The user: a deposit and one permit for this node.
    const user = createEvmChain({ rpcUrl: local.market.rpcUrl, chainId: local.market.chainId, addresses: local.market.addresses, account: privateKeyToAccount(ANVIL_KEYS[3]!) });
    await user.deposit(ZERO_ADDRESS, 10n ** 18n);
    const permit = await user.signPermit({ node: enclave, policy: ZERO_HASH, token: ZERO_ADDRESS, maxAmount: 10n ** 15n, expiry: (await user.chainTime()) + 3600n, nonce: 1n });

    const receipts: unknown[] = [];
    const ask = async (url: string, paid: boolean): Promise<{ text: string; prompt: number; completion: number }> => {
      const vf = createVerifiedFetch({ baseURL: `${url}/v1`, allowSimulated: true, attestation: { onWarning: () => {} }, onMarketReceipt: (r) => receipts.push(r) });
      const res = await vf(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(paid ? { [PERMIT_HEADER]: encodePermitHeader(permit) } : {}) },
        body: JSON.stringify({ model: MODEL, messages: PROMPT, temperature: 0, max_tokens: 40 }),
      });
      expect(res.status).toBe(200);
      const j = (await res.json()) as { choices: { message: { content: string } }[]; usage: { prompt_tokens: number; completion_tokens: number } };
      return { text: j.choices[0]!.message.content, prompt: j.usage.prompt_tokens, completion: j.usage.completion_tokens };
    };
    const first = await ask(node.url, true);
    const second = await ask(node.url, true);
    const reference = await ask(plain.url, false);
    expect(first.text.length).toBeGreaterThan(10);
    expect(first.text).toBe(reference.text);
    expect(second.text).toBe(reference.text);

    // Two enclave-signed receipts came back with the answers, for the sealed model's id.
    expect(receipts).toHaveLength(2);
    const last = receiptFromWire(receipts.at(-1));
    const tokens = BigInt(first.prompt + first.completion + second.prompt + second.completion);
    expect(last.receipt.model).toBe(modelId(MODEL));
    expect(last.receipt.enclave).toBe(enclave);
    expect(last.receipt.cumulative).toBe(tokens * (PRICE_PER_MTOK / 1_000_000n));

    // The node settles when it stops; the escrow pays the owner their share of exactly that.
    expect(await node.stop()).toBe(0);
    const owner = privateKeyToAccount(ANVIL_KEYS[5]!).address.toLowerCase() as EvmAddress;
    const operator = privateKeyToAccount(operatorKey).address.toLowerCase() as EvmAddress;
    const paid = tokens * (PRICE_PER_MTOK / 1_000_000n);
    const royalty = (paid * ROYALTY_BPS) / 10_000n;
    expect((paid * ROYALTY_BPS) % 10_000n).toBe(0n); // no rounding hides in the figure
    expect(await user.claimable(owner, ZERO_ADDRESS)).toBe(royalty);
    expect(await user.claimable(operator, ZERO_ADDRESS)).toBe(paid - royalty);
    expect((await user.channelState(permit.id, enclave, modelId(MODEL))).settled).toBe(paid);

    // The key this node used was released on chain, by the owner's brokers, to this node.
    const events = (await createModelChain({ market: local.market }).releases(MODEL)).filter((e) => e.node === enclave);
    expect(events.length).toBeGreaterThanOrEqual(2);
  }, 240_000);
});
