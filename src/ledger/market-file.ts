/**
 * `market.json`: where a market lives (chain id, RPC URL, contract addresses). Written by
 * `cloister chain start`, read by every command that talks to the chain (--market FILE,
 * env CLOISTER_MARKET). Parsed with zod at the boundary.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import type { MarketAddresses } from "./deploy.js";
import { LedgerError } from "./errors.js";
import type { EvmAddress } from "./typed-data.js";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/).transform((s) => s.toLowerCase() as EvmAddress);

const schema = z
  .object({
    version: z.literal(1),
    chainId: z.number().int().positive(),
    rpcUrl: z.string().url(),
    deployBlock: z.string().regex(/^\d+$/),
    simulatedAllowed: z.boolean(),
    addresses: z
      .object({
        policy: address,
        quorum: address,
        registry: address,
        escrow: address,
        agentRequests: address,
        automataAdapter: address.nullable(),
        testToken: address.nullable(),
        modelRegistry: address.nullable().optional(),
        dataPool: address.nullable().optional(),
      })
      .strict(),
    /** Where the verifier quorum's members answer POST /v1/verdicts (src/market/verifier-service.ts), and how many must sign. */
    verifierUrls: z.array(z.string().url()).max(64).optional(),
    quorumThreshold: z.number().int().positive().optional(),
  })
  .strict();

export interface MarketFile {
  readonly version: 1;
  readonly chainId: number;
  readonly rpcUrl: string;
  readonly deployBlock: bigint;
  readonly simulatedAllowed: boolean;
  readonly addresses: MarketAddresses;
  readonly verifierUrls?: readonly string[] | undefined;
  readonly quorumThreshold?: number | undefined;
}

export function parseMarketFile(json: unknown): MarketFile {
  const r = schema.safeParse(json);
  if (!r.success) throw new LedgerError("MARKET_FILE_INVALID", `market file is not valid: ${r.error.issues[0]?.path.join(".")} ${r.error.issues[0]?.message}`);
  return { ...r.data, deployBlock: BigInt(r.data.deployBlock) };
}

export function readMarketFile(path: string): MarketFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new LedgerError("MARKET_FILE_MISSING", `no market file at ${path} (run \`cloister chain start --data-dir DIR\`, or pass --market FILE)`);
  }
  try {
    return parseMarketFile(JSON.parse(text));
  } catch (err) {
    if (err instanceof LedgerError) throw err;
    throw new LedgerError("MARKET_FILE_INVALID", `market file ${path} is not JSON`);
  }
}

export function marketFileJson(m: MarketFile): string {
  return `${JSON.stringify({ ...m, deployBlock: m.deployBlock.toString() }, null, 2)}\n`;
}

export function writeMarketFile(path: string, m: MarketFile): void {
  writeFileSync(path, marketFileJson(m));
}
