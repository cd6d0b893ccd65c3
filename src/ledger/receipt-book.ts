/**
 * The node's side of metering (DESIGN.md "The market"): one EIP-712 receipt per metered
 * request, with the channel's next seq and the new cumulative amount, written to durable
 * storage before the caller may release the answer — so a crash after the answer loses no
 * receipt, and a restart continues the seq instead of signing a second history for it
 * (which would be slashing evidence). Calls for one channel are serialised.
 */
import type { LocalAccount } from "viem";
import type { Settlement, SignedPermit, SignedReceipt } from "./chain.js";
import { LedgerError } from "./errors.js";
import type { Deployment } from "./sign.js";
import { signReceipt } from "./sign.js";
import { requestCost, type EvmAddress, type Hex32, type Price } from "./typed-data.js";

export interface ChannelHead {
  readonly seq: bigint;
  readonly cumulative: bigint;
}

/** Durable storage of issued receipts. `append` must be durable when it resolves. */
export interface ReceiptStore {
  head(channel: string): Promise<ChannelHead | null>;
  append(channel: string, permit: SignedPermit, r: SignedReceipt, requestId?: string): Promise<void>;
  /** The latest receipt of every channel, with its permit: what a settlement sends. */
  latest(): Promise<Settlement[]>;
  /** The latest receipt issued for one request (interim receipts of a stream included), if any. */
  byRequest?(requestId: string): Promise<SignedReceipt | null>;
}

export interface MeteredRequest {
  readonly permit: SignedPermit;
  readonly model: Hex32;
  readonly price: Price;
  readonly priceVersion: number;
  readonly requestHash: Hex32;
  readonly responseHash: Hex32;
  readonly promptTokens: bigint;
  readonly completionTokens: bigint;
  /**
   * What earlier receipts of this same request already charged (a stream's interim
   * receipts): this receipt adds requestCost(totals) - charged, so rounding up happens once
   * per request, not once per receipt.
   */
  readonly charged?: bigint;
  /** The node's request id, kept beside the receipt (GET /v1/market/receipts/<id>). */
  readonly requestId?: string;
}

export interface ReceiptBook {
  /** Signs and stores the receipt; refuses (PERMIT_EXHAUSTED) a request the permit cannot pay. */
  issue(req: MeteredRequest, nowSeconds: bigint): Promise<SignedReceipt>;
}

export function channelKey(permitId: Hex32, enclave: EvmAddress, model: Hex32): string {
  return `${permitId.toLowerCase()}:${enclave.toLowerCase()}:${model.toLowerCase()}`;
}

export function createReceiptBook(o: { enclave: LocalAccount; escrow: Deployment; store: ReceiptStore }): ReceiptBook {
  const locks = new Map<string, Promise<unknown>>();
  const enclave = o.enclave.address.toLowerCase() as EvmAddress;
  return {
    issue(req, nowSeconds) {
      const p = req.permit.permit;
      const key = channelKey(req.permit.id, enclave, req.model);
      const run = async (): Promise<SignedReceipt> => {
        if (p.node !== "0x0000000000000000000000000000000000000000" && p.node.toLowerCase() !== enclave) {
          throw new LedgerError("PERMIT_NOT_FOR_NODE", "the spend permit names another node");
        }
        if (p.expiry <= nowSeconds) throw new LedgerError("PERMIT_EXPIRED", "the spend permit has expired");
        const head = (await o.store.head(key)) ?? { seq: 0n, cumulative: 0n };
        const total = requestCost(req.price, req.promptTokens, req.completionTokens);
        const charged = req.charged ?? 0n;
        const cumulative = head.cumulative + (total > charged ? total - charged : 0n);
        // The cap is per permit, across channels; each channel is bounded by it on its own here
        // and on chain the escrow pays no more than the cap in total.
        if (cumulative > p.maxAmount) throw new LedgerError("PERMIT_EXHAUSTED", "the spend permit's maximum is reached");
        const receipt = {
          permitId: req.permit.id,
          enclave,
          model: req.model,
          priceVersion: req.priceVersion,
          requestHash: req.requestHash,
          responseHash: req.responseHash,
          promptTokens: req.promptTokens,
          completionTokens: req.completionTokens,
          cumulative,
          seq: head.seq + 1n,
        };
        const signed = { receipt, signature: await signReceipt(o.enclave, o.escrow, receipt) };
        await o.store.append(key, req.permit, signed, req.requestId);
        return signed;
      };
      const prev = locks.get(key) ?? Promise.resolve();
      const next = prev.then(run, run);
      locks.set(key, next.catch(() => undefined));
      return next;
    },
  };
}
