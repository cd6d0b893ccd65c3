/**
 * `cloister escrow deposit|permit|balance|withdraw|claim` (`cloister nodes` is ./nodes.ts): a user's and an
 * operator's view of the market's escrow and registry, over any EVM JSON-RPC.
 */
import { parseArgs } from "node:util";
import { resolveDataDir } from "../../config/node-config.js";
import { isCloisterError } from "../../errors.js";
import { CHAIN_OPTIONS, CHAIN_USAGE, resolveAccount, resolveMarket } from "../../ledger/chain-config.js";
import { createEvmChain } from "../../ledger/evm-chain.js";
import { ZERO_ADDRESS, ZERO_HASH, type EvmAddress, type Hex32 } from "../../ledger/typed-data.js";
import { EXIT, type CliIO } from "../io.js";

const ESCROW_USAGE = `usage: cloister escrow <command> [options]

  escrow deposit AMOUNT                         deposit (smallest unit) into the escrow
  escrow balance [--address A]                  escrow balance and claimable payouts
  escrow permit (--node ENCLAVE | --policy MEASUREMENTS) --max AMOUNT [--expires SECONDS]
                                                sign a spend permit; prints it as JSON for the client
  escrow withdraw AMOUNT                        ask to withdraw (waits the escrow's delay)
  escrow withdraw --complete                    withdraw once the delay has passed
  escrow claim                                  take your payouts (operator, model owner, treasury)
  --token ADDRESS                               an ERC-20 (default: the native token)
  --json                                        machine-readable output
${CHAIN_USAGE}`;


const amountRe = /^\d+$/;
const addrRe = /^0x[0-9a-fA-F]{40}$/;

function parse(args: string[]): ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof OPTIONS }>> {
  return parseArgs({ args, allowPositionals: true, options: OPTIONS });
}
const OPTIONS = {
  ...CHAIN_OPTIONS,
  token: { type: "string" },
  address: { type: "string" },
  node: { type: "string" },
  policy: { type: "string" },
  max: { type: "string" },
  expires: { type: "string" },
  complete: { type: "boolean" },
  model: { type: "string" },
  near: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x), 2);

export async function escrowCommand(args: string[], io: CliIO): Promise<number> {
  let p: ReturnType<typeof parse>;
  try {
    p = parse(args);
  } catch (cause) {
    io.err(`${cause instanceof Error ? cause.message : String(cause)}\n\n${ESCROW_USAGE}`);
    return EXIT.usage;
  }
  const { values: v, positionals: pos } = p;
  if (v.help) {
    io.out(ESCROW_USAGE);
    return EXIT.ok;
  }
  const [sub, arg] = pos;
  const token = (v.token ?? ZERO_ADDRESS).toLowerCase() as EvmAddress;
  if (!addrRe.test(token)) return usage(io, "--token must be an address", ESCROW_USAGE);
  try {
    const dataDir = resolveDataDir(v["data-dir"], io.env, io.cwd);
    const market = resolveMarket(v, io.env, io.cwd, dataDir);
    const account = resolveAccount(v, io.env, io.cwd);
    const chain = createEvmChain({ rpcUrl: market.rpcUrl, chainId: market.chainId, addresses: market.addresses, ...(account ? { account } : {}) });
    switch (sub) {
      case "deposit": {
        if (!arg || !amountRe.test(arg)) return usage(io, "escrow deposit needs an AMOUNT (integer, smallest unit)", ESCROW_USAGE);
        const tx = await chain.deposit(token, BigInt(arg));
        io.out(v.json ? json({ tx: tx.hash, gasUsed: tx.gasUsed }) : `deposited ${arg} (tx ${tx.hash}, gas ${tx.gasUsed})`);
        return EXIT.ok;
      }
      case "balance": {
        const who = (v.address ?? chain.account) as EvmAddress | null;
        if (!who || !addrRe.test(who)) return usage(io, "escrow balance needs --address or a chain key", ESCROW_USAGE);
        const balance = await chain.balance(who, token);
        const claimable = await chain.claimable(who, token);
        io.out(v.json ? json({ address: who, token, balance, claimable }) : `balance ${balance}  claimable ${claimable}`);
        return EXIT.ok;
      }
      case "permit": {
        if (!v.max || !amountRe.test(v.max)) return usage(io, "escrow permit needs --max AMOUNT", ESCROW_USAGE);
        if (!v.node === !v.policy) return usage(io, "escrow permit needs exactly one of --node or --policy", ESCROW_USAGE);
        if (v.node && !addrRe.test(v.node)) return usage(io, "--node must be an enclave address", ESCROW_USAGE);
        if (v.policy && !/^0x[0-9a-fA-F]{64}$/.test(v.policy)) return usage(io, "--policy must be a 32-byte measurements digest", ESCROW_USAGE);
        const expires = BigInt(v.expires && amountRe.test(v.expires) ? v.expires : "86400");
        const signed = await chain.signPermit({
          node: (v.node?.toLowerCase() ?? ZERO_ADDRESS) as EvmAddress,
          policy: (v.policy?.toLowerCase() ?? ZERO_HASH) as Hex32,
          token,
          maxAmount: BigInt(v.max),
          expiry: BigInt(Math.floor(Date.now() / 1000)) + expires,
          nonce: BigInt(Date.now()),
        });
        io.out(json(signed));
        return EXIT.ok;
      }
      case "withdraw": {
        if (v.complete) {
          const tx = await chain.withdraw(token);
          io.out(v.json ? json({ tx: tx.hash }) : `withdrawn (tx ${tx.hash})`);
          return EXIT.ok;
        }
        if (!arg || !amountRe.test(arg)) return usage(io, "escrow withdraw needs an AMOUNT, or --complete", ESCROW_USAGE);
        const tx = await chain.requestWithdraw(token, BigInt(arg));
        io.out(v.json ? json({ tx: tx.hash }) : `withdrawal of ${arg} requested; complete it with \`cloister escrow withdraw --complete\` after the delay`);
        return EXIT.ok;
      }
      case "claim": {
        const tx = await chain.claim(token);
        io.out(v.json ? json({ tx: tx.hash }) : `claimed (tx ${tx.hash})`);
        return EXIT.ok;
      }
      default:
        io.err(ESCROW_USAGE);
        return EXIT.usage;
    }
  } catch (err) {
    io.err(`cloister escrow: ${isCloisterError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    return isCloisterError(err) && err.name === "ConfigError" ? EXIT.usage : EXIT.failed;
  }
}

function usage(io: CliIO, msg: string, text: string): number {
  io.err(`${msg}\n\n${text}`);
  return EXIT.usage;
}

/** Moved to ./nodes.ts (served from the registry indexer); re-exported for existing imports. */
export { nodesCommand } from "./nodes.js";
