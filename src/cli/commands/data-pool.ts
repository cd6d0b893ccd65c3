/**
 * `cloister data pool <deploy|create|fund|extend|withdraw|show>` and `cloister data claim
 * RECEIPT`: reward pools on chain (src/data/rewards, contracts/DataPool.sol). The chain
 * and the DataPool come from the market file (`cloister chain start` deploys one;
 * --pool-contract overrides it), the sending key from --chain-key-file or
 * CLOISTER_CHAIN_KEY, as for every market command.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { resolveDataDir } from "../../config/node-config.js";
import { isCloisterError } from "../../errors.js";
import type { RewardClaim, Signed } from "../../data/pipeline/receipt.js";
import { formatDeadline, parseClaimUntil } from "../../data/rewards/deadline.js";
import { chainTime, claimReward, createPool, deployDataPool, extendClaimDeadline, fundPool, getPool, poolClient, withdrawPool, type PoolClient } from "../../data/rewards/pool.js";
import { DataError } from "../../errors.js";
import type { MarketFile } from "../../ledger/market-file.js";
import { CHAIN_OPTIONS, CHAIN_USAGE, resolveAccount, resolveMarket } from "../../ledger/chain-config.js";
import type { EvmAddress, Hex32 } from "../../ledger/typed-data.js";
import { EXIT, type CliIO } from "../io.js";

export const POOL_USAGE = `  data pool deploy                         deploy another DataPool trusting the market's NodeRegistry
                                           (\`cloister chain start\` already deploys one into market.json)
  data pool create --dataset NAME --token A --per-record N --pipeline MEASUREMENT --claim-until WHEN
                   (--pipeline-key ADDRESS | --node-measurements HEX32)
                                           a pool for a dataset, paying N per accepted record to claims
                                           signed by the attested pipeline key (or a registered enclave)
                                           until WHEN (ISO 8601 date/time, or +30d, +12h, +90m from the
                                           chain's time); after it the sponsor may withdraw what is left
  data pool fund POOL_ID AMOUNT            (until the claim deadline)
  data pool extend POOL_ID --claim-until WHEN
                                           give contributors more time (later only, never earlier)
  data pool withdraw POOL_ID               after the claim deadline: the sponsor takes the remainder, once
  data pool show POOL_ID
  data claim RECEIPT_FILE --pool POOL_ID   claim with the receipt file \`data contribute --payout\` wrote
  --pool-contract A                        a DataPool other than the market file's
${CHAIN_USAGE}`;

const ADDR = /^0x[0-9a-fA-F]{40}$/;
const H32 = /^(0x)?[0-9a-fA-F]{64}$/;
const INT = /^\d+$/;
const OPTIONS = {
  ...CHAIN_OPTIONS,
  "pool-contract": { type: "string" }, pool: { type: "string" }, dataset: { type: "string" }, token: { type: "string" },
  "per-record": { type: "string" }, pipeline: { type: "string" }, "pipeline-key": { type: "string" }, "node-measurements": { type: "string" },
  "claim-until": { type: "string" }, json: { type: "boolean" },
} as const;

function usage(io: CliIO, msg: string): number {
  io.err(`${msg}\n\n${POOL_USAGE}`);
  return EXIT.usage;
}

const h32 = (s: string): Hex32 => `0x${s.replace(/^0x/, "").toLowerCase()}` as Hex32;
const addr = (s: string): EvmAddress => s.toLowerCase() as EvmAddress;

/** --pool-contract if given, else the market file's DataPool. */
function poolContract(flag: string | undefined, market: MarketFile): EvmAddress {
  if (flag) return addr(flag);
  const a = market.addresses.dataPool;
  if (!a) throw new DataError("POOL_CONTRACT_MISSING", "the market file names no DataPool (a market from before DataPool was deployed): pass --pool-contract, or deploy one with `cloister data pool deploy`");
  return a;
}

/** What `data contribute --payout` writes: the verified receipt, the claim, and the payout secret. */
interface ReceiptFile {
  readonly claim: Signed<RewardClaim> | null;
  readonly payout?: string;
  readonly salt?: string;
}

export async function poolCommand(sub: "pool" | "claim", args: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  } catch (cause) {
    return usage(io, cause instanceof Error ? cause.message : String(cause));
  }
  const { values: v, positionals: pos } = parsed;
  if (v["pool-contract"] && !ADDR.test(v["pool-contract"])) return usage(io, "--pool-contract must be an address");
  try {
    const dataDir = resolveDataDir(v["data-dir"], io.env, io.cwd);
    const market = resolveMarket(v, io.env, io.cwd, dataDir);
    const account = resolveAccount(v, io.env, io.cwd);
    const client = (contract: EvmAddress = poolContract(v["pool-contract"], market)): PoolClient =>
      poolClient({ rpcUrl: market.rpcUrl, chainId: market.chainId, contract, ...(account ? { account } : {}) });
    const out = (obj: Record<string, unknown>, line: string): void => io.out(v.json ? JSON.stringify(obj, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x)) : line);
    if (sub === "claim") {
      const file = pos[0];
      if (!file || !v.pool || !H32.test(v.pool)) return usage(io, "data claim needs RECEIPT_FILE and --pool POOL_ID");
      const r = JSON.parse(readFileSync(resolve(io.cwd, file), "utf8")) as ReceiptFile;
      if (!r.claim) return usage(io, "this receipt has no reward claim (the contribution was not accepted)");
      if (!r.payout || !ADDR.test(r.payout) || !r.salt || !H32.test(r.salt)) return usage(io, "the receipt file has no payout address and salt (contribute with --payout)");
      const paid = await claimReward(client(), h32(v.pool), r.claim, addr(r.payout), h32(r.salt));
      out({ tx: paid.tx, amount: paid.amount, payout: r.payout }, `claimed ${paid.amount} to ${r.payout} (tx ${paid.tx})`);
      return EXIT.ok;
    }
    const [cmd, a1, a2] = pos;
    switch (cmd) {
      case "deploy": {
        const c = client(market.addresses.registry);
        if (!c.wallet) return usage(io, "data pool deploy needs a chain key");
        const at = await deployDataPool(c.wallet, c.public, market.addresses.registry);
        out({ contract: at }, `DataPool deployed at ${at} (trusting registry ${market.addresses.registry})`);
        return EXIT.ok;
      }
      case "create": {
        if (!v.dataset || !v.token || !ADDR.test(v.token) || !v["per-record"] || !INT.test(v["per-record"]) || !v.pipeline || !H32.test(v.pipeline)) {
          return usage(io, "data pool create needs --dataset, --token ADDRESS, --per-record N and --pipeline MEASUREMENT");
        }
        if (!v["pipeline-key"] === !v["node-measurements"]) return usage(io, "give exactly one of --pipeline-key or --node-measurements");
        if (v["pipeline-key"] && !ADDR.test(v["pipeline-key"])) return usage(io, "--pipeline-key must be an address");
        if (v["node-measurements"] && !H32.test(v["node-measurements"])) return usage(io, "--node-measurements must be 32 bytes of hex");
        if (!v["claim-until"]) return usage(io, "data pool create needs --claim-until WHEN (claims pay until then; afterwards you may withdraw what is left)");
        const c = client();
        const claimUntil = parseClaimUntil(v["claim-until"], await chainTime(c));
        const r = await createPool(c, {
          dataset: v.dataset, token: addr(v.token), rewardPerUnit: BigInt(v["per-record"]), pipeline: v.pipeline,
          ...(v["pipeline-key"] ? { pipelineKey: addr(v["pipeline-key"]) } : {}),
          ...(v["node-measurements"] ? { nodeMeasurements: h32(v["node-measurements"]) } : {}),
          claimUntil,
        });
        out({ ...r, contract: c.contract, claimUntil }, `pool ${r.poolId} created at ${c.contract}, claims until ${formatDeadline(claimUntil)} (tx ${r.tx})`);
        return EXIT.ok;
      }
      case "fund": {
        if (!a1 || !H32.test(a1) || !a2 || !INT.test(a2)) return usage(io, "data pool fund needs POOL_ID and AMOUNT");
        const r = await fundPool(client(), h32(a1), BigInt(a2));
        out(r, `funded; pool balance ${r.balance} (tx ${r.tx})`);
        return EXIT.ok;
      }
      case "extend": {
        if (!a1 || !H32.test(a1) || !v["claim-until"]) return usage(io, "data pool extend needs POOL_ID and --claim-until WHEN");
        const c = client();
        const claimUntil = parseClaimUntil(v["claim-until"], await chainTime(c));
        const r = await extendClaimDeadline(c, h32(a1), claimUntil);
        out({ ...r, claimUntil }, `claims now until ${formatDeadline(claimUntil)} (tx ${r.tx})`);
        return EXIT.ok;
      }
      case "withdraw": {
        const id = a1 ?? v.pool;
        if (!id || !H32.test(id)) return usage(io, "data pool withdraw needs POOL_ID");
        const r = await withdrawPool(client(), h32(id));
        out(r, `withdrew ${r.amount} to the sponsor; the pool is closed (tx ${r.tx})`);
        return EXIT.ok;
      }
      case "show": {
        const id = a1 ?? v.pool;
        if (!id || !H32.test(id)) return usage(io, "data pool show needs POOL_ID");
        const c = client();
        const p = await getPool(c, h32(id));
        const now = await chainTime(c);
        const state = p.withdrawn ? "closed (remainder withdrawn)" : now <= p.claimUntil ? "open for claims" : "claim period over (sponsor may withdraw)";
        out({ ...p, contract: c.contract, claimUntilIso: formatDeadline(p.claimUntil), state }, [
          `sponsor ${p.sponsor} token ${p.token} ${p.rewardPerUnit}/record balance ${p.balance} pipeline ${p.pipeline} ${p.pipelineKey !== "0x0000000000000000000000000000000000000000" ? `key ${p.pipelineKey}` : `registry enclaves under ${p.nodeMeasurements}`}`,
          `claims until ${formatDeadline(p.claimUntil)}: ${state}`,
        ].join("\n"));
        return EXIT.ok;
      }
      default:
        return usage(io, `unknown data pool command: ${cmd ?? ""}`);
    }
  } catch (err) {
    io.err(`cloister data ${sub}: ${isCloisterError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
}
