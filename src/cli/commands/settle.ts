/**
 * `cloister settle [--data-dir D] [--json]`: settles the latest receipt of every channel
 * this node's receipt store holds (DATA_DIR/market-receipts.sqlite) in one settleBatch
 * transaction. Anyone may send it (the escrow checks the signatures, not the sender); the
 * operator's key pays the gas. `cloister up --register` also settles at start, every
 * --settle-every seconds and at stop; this command is for a node that is down.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { resolveDataDir } from "../../config/node-config.js";
import { isCloisterError } from "../../errors.js";
import { CHAIN_OPTIONS, CHAIN_USAGE, resolveAccount, resolveMarket } from "../../ledger/chain-config.js";
import { createEvmChain } from "../../ledger/evm-chain.js";
import { openSqliteReceiptStore } from "../../ledger/receipt-store-sqlite.js";
import { receiptStorePath } from "../../market/node-market.js";
import { settlePending } from "../../market/settle.js";
import { EXIT, type CliIO } from "../io.js";

const USAGE = `usage: cloister settle [--json]
  Settles every channel's latest unsettled receipt from the node's receipt store in one transaction.
  --json                 machine-readable output
${CHAIN_USAGE}`;

export async function settleCommand(args: string[], io: CliIO): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, allowPositionals: false, options: { ...CHAIN_OPTIONS, json: { type: "boolean" }, help: { type: "boolean", short: "h" } } }));
  } catch (cause) {
    io.err(`${cause instanceof Error ? cause.message : String(cause)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (values["help"]) {
    io.out(USAGE);
    return EXIT.ok;
  }
  const str = (k: string): string | undefined => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  try {
    const dataDir = resolveDataDir(str("data-dir"), io.env, io.cwd);
    const flags = { market: str("market"), "chain-rpc": str("chain-rpc"), "chain-key-file": str("chain-key-file") };
    const market = resolveMarket(flags, io.env, io.cwd, dataDir);
    const account = resolveAccount(flags, io.env, io.cwd);
    if (!account) {
      io.err("cloister settle: NO_ACCOUNT: a key pays the gas (--chain-key-file FILE or CLOISTER_CHAIN_KEY)");
      return EXIT.usage;
    }
    const path = receiptStorePath(dataDir);
    if (!existsSync(path)) {
      io.err(`cloister settle: no receipt store at ${path} (this data dir has served no paid request)`);
      return EXIT.failed;
    }
    const chain = createEvmChain({ rpcUrl: market.rpcUrl, chainId: market.chainId, addresses: market.addresses, account });
    const store = openSqliteReceiptStore(path);
    try {
      const r = await settlePending(chain, store);
      const out = {
        settled: r.settled,
        requestsCovered: r.requestsCovered.toString(),
        claimed: r.claimed.toString(),
        alreadySettled: r.alreadySettled,
        transactions: r.txs.map((t) => t.hash),
        gasUsed: r.gasUsed.toString(),
        gasPerReceipt: r.settled ? (r.gasUsed / BigInt(r.settled)).toString() : null,
        refused: r.refused.map((x) => ({ permitId: x.receipt.receipt.receipt.permitId, seq: x.receipt.receipt.receipt.seq.toString(), code: x.code, revert: x.revert ?? null })),
      };
      if (values["json"]) io.out(JSON.stringify(out, null, 2));
      else {
        io.out(`cloister settle: ${r.settled} receipt(s) covering ${r.requestsCovered} request(s) in ${r.txs.length} transaction(s), ${r.gasUsed} gas; ${r.alreadySettled} already settled`);
        for (const x of out.refused) io.out(`  refused: permit ${x.permitId} seq ${x.seq}: ${x.revert ?? x.code}`);
      }
      return r.refused.length ? EXIT.failed : EXIT.ok;
    } finally {
      store.close();
    }
  } catch (err) {
    io.err(`cloister settle: ${isCloisterError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
}
