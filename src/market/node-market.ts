/**
 * `cloister up --register`: the node's market side in one place. Before the server starts:
 * the chain handle (operator account), the durable receipt store and the payment layer
 * for the gateway. Once it listens: registration through the verifier quorum (and its
 * refresh), settlement of receipts left by earlier boots (a SIGKILL'd node is paid on its
 * next start), then settlement every `settleEverySeconds` and once more at stop.
 */
import { join } from "node:path";
import type { LocalAccount } from "viem";
import type { Chain } from "../ledger/chain.js";
import { resolveAccount, resolveMarket } from "../ledger/chain-config.js";
import { createEvmChain } from "../ledger/evm-chain.js";
import type { MarketFile } from "../ledger/market-file.js";
import { openSqliteReceiptStore, type SqliteReceiptStore } from "../ledger/receipt-store-sqlite.js";
import { modelId, type EvmAddress, type Hex32, type Price } from "../ledger/typed-data.js";
import type { Logger } from "../log/logger.js";
import { isCloisterError } from "../errors.js";
import { MarketCode, MarketError } from "./errors.js";
import type { MarketNodeFlags } from "./node-config.js";
import { createNodePayments, type MarketPricing, type NodePayments } from "./payments.js";
import { keepRegistered, registerNode, type Registered } from "./register.js";
import { settlePending, type SettleReport } from "./settle.js";
import { createReceiptBook } from "../ledger/receipt-book.js";
import { createTokenSale, type TokenSale } from "../transparency/tokens/escrow-sale.js";
import type { IssuerKey } from "../transparency/tokens/issuer.js";

export interface NodeMarket {
  readonly payments: NodePayments;
  readonly chain: Chain;
  readonly market: MarketFile;
  /** Registers at `listenUrl` (or --public-url), then keeps registered and settles on schedule. */
  start(listenUrl: string): Promise<Registered>;
  settleNow(): Promise<SettleReport>;
  /**
   * The token sale (--token-price): purchases are receipts in the SAME receipt store as
   * inference receipts (own channel: the token model), so they settle on the same
   * schedule and through `cloister settle`. Null without --token-price.
   */
  tokenSale(key: IssuerKey): TokenSale | null;
  close(): Promise<void>;
}

export function receiptStorePath(dataDir: string): string {
  return join(dataDir, "market-receipts.sqlite");
}

export function prepareNodeMarket(o: { flags: MarketNodeFlags; env: NodeJS.ProcessEnv; cwd: string; dataDir: string; enclave: LocalAccount; logger: Logger }): NodeMarket {
  const market = resolveMarket(o.flags.chain, o.env, o.cwd, o.dataDir);
  const operator = resolveAccount(o.flags.chain, o.env, o.cwd);
  if (!operator) throw new MarketError(MarketCode.REGISTRATION_FAILED, "--register needs the operator's chain key (--chain-key-file FILE or CLOISTER_CHAIN_KEY)");
  const chain = createEvmChain({ rpcUrl: market.rpcUrl, chainId: market.chainId, addresses: market.addresses, account: operator });
  const store: SqliteReceiptStore = openSqliteReceiptStore(receiptStorePath(o.dataDir));
  const byModel = new Map<string, Price>(o.flags.prices.map((p) => [p.model, { model: modelId(p.model), promptPerMTok: p.promptPerMTok, completionPerMTok: p.completionPerMTok }]));
  let pricing: MarketPricing = { version: 0, byModel };
  let measurements: Hex32 | null = null;
  // A permit from a user with nothing in escrow is refused; balances are cached briefly.
  const funded = new Map<string, { ok: boolean; at: number }>();
  const payments = createNodePayments({
    enclave: o.enclave,
    escrow: { chainId: market.chainId, address: market.addresses.escrow },
    store,
    pricing: () => pricing,
    required: true,
    receiptEveryTokens: o.flags.receiptEveryTokens,
    measurementsDigest: () => measurements,
    logger: o.logger,
    // A request that spent a token was paid when the token was bought (tokenSale below).
    tokensPrepaid: o.flags.tokenPrice !== undefined,
    funded: async (user: EvmAddress, token: EvmAddress) => {
      const k = `${user}:${token}`;
      const hit = funded.get(k);
      if (hit && Date.now() - hit.at < 30_000) return hit.ok;
      const ok = (await chain.balance(user, token).catch(() => 0n)) > 0n;
      funded.set(k, { ok, at: Date.now() });
      return ok;
    },
  });
  const stop = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let settling: Promise<SettleReport> | null = null;
  const settleNow = (): Promise<SettleReport> => {
    settling ??= settlePending(chain, store)
      .then((r) => {
        if (r.settled > 0) o.logger.info("receipts settled", { receipts: r.settled, requests: r.requestsCovered.toString(), gas: r.gasUsed.toString(), txs: r.txs.length });
        if (r.refused.length > 0) o.logger.warn("receipts refused by the escrow", { count: r.refused.length, revert: r.refused[0]?.revert ?? r.refused[0]?.code });
        return r;
      })
      .finally(() => (settling = null));
    return settling;
  };
  const onRegistered = (r: Registered): void => {
    measurements = r.verdict.measurementsDigest;
    void chain.getNode(o.enclave.address.toLowerCase() as EvmAddress).then((n) => n && (pricing = { version: n.priceVersion, byModel }));
  };
  return {
    payments,
    chain,
    market,
    settleNow,
    tokenSale(key) {
      if (o.flags.tokenPrice === undefined) return null;
      const escrow = { chainId: market.chainId, address: market.addresses.escrow };
      const book = createReceiptBook({ enclave: o.enclave, escrow, store });
      // The escrow does not check a receipt's price version; the registry's is named for audit.
      return createTokenSale({ key, book, escrow, pricePerToken: o.flags.tokenPrice, priceVersion: pricing.version, chain });
    },
    async start(listenUrl) {
      const verifierUrls = o.flags.verifierUrls ?? market.verifierUrls ?? [];
      const reg = {
        chain,
        enclave: o.enclave,
        endpoint: o.flags.publicUrl ?? listenUrl,
        region: o.flags.region,
        latE6: o.flags.latE6,
        lonE6: o.flags.lonE6,
        prices: [...byModel.values()],
        ...(o.flags.payout ? { payout: o.flags.payout } : {}),
        verifierUrls,
        threshold: market.quorumThreshold ?? 1,
      };
      const first = await registerNode(reg);
      onRegistered(first);
      const n = await chain.getNode(o.enclave.address.toLowerCase() as EvmAddress);
      if (n) pricing = { version: n.priceVersion, byModel };
      keepRegistered({ ...reg, signal: stop.signal, logger: o.logger, onRegistered }, first);
      // Receipts earlier boots of this node left (a crash included) are paid first.
      await settleNow().catch((err: unknown) => o.logger.warn("settlement failed", { code: isCloisterError(err) ? err.code : "UNKNOWN" }));
      if (o.flags.settleEverySeconds > 0) {
        timer = setInterval(() => void settleNow().catch((err: unknown) => o.logger.warn("settlement failed", { code: isCloisterError(err) ? err.code : "UNKNOWN" })), o.flags.settleEverySeconds * 1000);
        timer.unref();
      }
      return first;
    },
    async close() {
      stop.abort();
      if (timer) clearInterval(timer);
      await settleNow().catch((err: unknown) => o.logger.warn("settlement at stop failed", { code: isCloisterError(err) ? err.code : "UNKNOWN" }));
      store.close();
    },
  };
}
