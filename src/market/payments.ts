/**
 * Paid requests on a market node (docs/protocol.md "Paying a node"). Sits inside metering
 * and outside signing, so it sees the meter's usage and the signed bytes:
 *
 *  - before the handler: the user's spend permit (X-Cloister-Permit; under E2E it came
 *    sealed and the E2E layer put it there) is decoded, its EIP-712 signature recovered,
 *    and checked against this enclave, the clock, the price table and what the channel
 *    already owes. Without a valid permit a node that requires payment answers 402.
 *  - after it: one enclave-signed receipt (src/ledger/receipt-book.ts) is durable in the
 *    receipt store BEFORE the answer is released: a non-stream's body is held until then,
 *    a stream's LAST chunk (the one with `[DONE]`) is held until then.
 *  - during a stream: an interim receipt for what was already handed on, each time
 *    another `receiptEveryTokens` completion tokens went out, so a node killed mid-stream
 *    (no code runs after SIGKILL) can still be paid for what it delivered, up to that bound,
 *    and never for more: a receipt only ever covers chunks the next layer already took.
 */
import { createHash } from "node:crypto";
import type { Handler, MiddlewareHandler } from "hono";
import { recoverTypedDataAddress, type LocalAccount } from "viem";
import { GatewayError } from "../errors.js";
import type { Usage } from "../inference/backend.js";
import type { Logger } from "../log/logger.js";
import type { GatewayEnv } from "../gateway/context.js";
import { bodyBytes, replaceResponse } from "../gateway/context.js";
import type { UsageProgress } from "../gateway/handlers/usage-progress.js";
import type { Meter } from "../gateway/meter.js";
import { sealedExchange } from "../gateway/sealed-exchange.js";
import { bufferedBody, bufferedResponse, isEventStream, streamedBody, streamedResponse, withBufferedHeaders } from "../gateway/stream-tap.js";
import type { SignedPermit, SignedReceipt } from "../ledger/chain.js";
import { channelKey, createReceiptBook, type ReceiptStore } from "../ledger/receipt-book.js";
import type { Deployment } from "../ledger/sign.js";
import { domain, modelId, PERMIT_TYPES, ZERO_ADDRESS, ZERO_HASH, requestCost, type EvmAddress, type Hex32, type Price } from "../ledger/typed-data.js";
import { MarketCode } from "./errors.js";
import { decodePermitHeader, MARKET_RECEIPT_HEADER, PERMIT_HEADER, receiptToWire } from "./wire.js";
import { isCloisterError } from "../errors.js";

export interface MarketPricing {
  /** The registry's price version these prices are (receipts name it). */
  readonly version: number;
  /** By model name exactly as served. */
  readonly byModel: ReadonlyMap<string, Price>;
}

export interface NodePaymentsOptions {
  /** The node's attested ECDSA key: its address is the registered enclave. */
  readonly enclave: LocalAccount;
  readonly escrow: Deployment;
  readonly store: ReceiptStore;
  readonly pricing: () => MarketPricing;
  /** Refuse (402) requests without a permit. */
  readonly required: boolean;
  /** Interim receipts of a stream every this many completion tokens (default 16): the stated loss bound of a crash. */
  readonly receiptEveryTokens?: number;
  /** The measurements digest the registry holds for this node (permits by policy name it). */
  readonly measurementsDigest?: () => Hex32 | null;
  /** Whether the user has funds in the escrow for this token (cached by the caller); absent = not checked. */
  readonly funded?: (user: EvmAddress, token: EvmAddress) => Promise<boolean>;
  readonly now?: () => bigint;
  readonly logger?: Logger;
  /**
   * Requests authorised by an anonymous token (keyId `token:…`) pass without a permit: this
   * node sells its tokens only through the escrow (`--token-price`), so each was paid for.
   */
  readonly tokensPrepaid?: boolean;
}

export interface NodePayments {
  readonly middleware: MiddlewareHandler<GatewayEnv>;
  /** Wraps the handlers' running-usage tracker, so interim receipts see each delta's totals. */
  tapProgress(p: UsageProgress): UsageProgress;
  /** GET /v1/market/receipts/:id — the latest receipt of a request (plain streams read theirs here). */
  readonly receiptRoute: Handler<GatewayEnv>;
  readonly receiptEveryTokens: number;
}

const payErr = (code: string, message: string, status = 402): GatewayError => new GatewayError(status, code, message, { type: "payment_required" });

export function createNodePayments(o: NodePaymentsOptions): NodePayments {
  const book = createReceiptBook({ enclave: o.enclave, escrow: o.escrow, store: o.store });
  const enclave = o.enclave.address.toLowerCase() as EvmAddress;
  const every = BigInt(o.receiptEveryTokens ?? 16);
  const now = o.now ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  // Running totals per request id, fed by the meter and the handlers' tracker.
  const running = new Map<string, Usage>();

  const checkPermit = async (header: string): Promise<SignedPermit> => {
    let permit: SignedPermit;
    try {
      permit = decodePermitHeader(header, o.escrow);
    } catch (err) {
      throw payErr(MarketCode.PERMIT_INVALID, err instanceof Error ? err.message : "invalid permit", 400);
    }
    const p = permit.permit;
    const signer = await recoverTypedDataAddress({
      domain: domain("escrow", o.escrow.chainId, o.escrow.address),
      types: PERMIT_TYPES,
      primaryType: "SpendPermit",
      message: p,
      signature: permit.signature,
    }).catch(() => null);
    if (!signer || signer.toLowerCase() !== p.user) throw payErr(MarketCode.PERMIT_BAD_SIGNATURE, "the spend permit is not signed by its user");
    if (p.node !== ZERO_ADDRESS && p.node !== enclave) throw payErr(MarketCode.PERMIT_NOT_FOR_NODE, "the spend permit names another node");
    if (p.node === ZERO_ADDRESS) {
      const ours = o.measurementsDigest?.() ?? null;
      if (p.policy === ZERO_HASH || !ours || p.policy !== ours) throw payErr(MarketCode.PERMIT_NOT_FOR_NODE, "the spend permit's policy does not match this node's measurements");
    }
    if (p.expiry <= now()) throw payErr(MarketCode.PERMIT_EXPIRED, "the spend permit has expired");
    if (o.funded && !(await o.funded(p.user, p.token))) throw payErr(MarketCode.PERMIT_UNFUNDED, "the permit's user has no funds in the escrow for its token");
    return permit;
  };

  const modelOf = async (c: Parameters<MiddlewareHandler<GatewayEnv>>[0]): Promise<string> => {
    try {
      const v: unknown = JSON.parse(new TextDecoder().decode(await bodyBytes(c)));
      const m = v && typeof v === "object" ? (v as Record<string, unknown>)["model"] : undefined;
      return typeof m === "string" ? m : "";
    } catch {
      return "";
    }
  };

  const middleware: MiddlewareHandler<GatewayEnv> = async (c, next) => {
    if (o.tokensPrepaid && c.get("keyId")?.startsWith("token:")) return next();
    const header = c.req.header(PERMIT_HEADER);
    if (header === undefined) {
      if (o.required) throw payErr(MarketCode.PAYMENT_REQUIRED, `this node is paid through the market escrow: send a spend permit (${PERMIT_HEADER}; sealed under E2E)`);
      return next();
    }
    const permit = await checkPermit(header);
    const modelName = await modelOf(c);
    const pricing = o.pricing();
    const price = pricing.byModel.get(modelName);
    // Unknown models are the handler's 404; a served model without a price cannot be paid for.
    if (!price) {
      if (!o.required) return next();
      throw payErr(MarketCode.MODEL_NOT_PRICED, `this node has no price for model ${JSON.stringify(modelName.slice(0, 64))}`);
    }
    const model = modelId(modelName);
    const head = await o.store.head(channelKey(permit.id, enclave, model));
    if (head && head.cumulative >= permit.permit.maxAmount) throw payErr(MarketCode.PERMIT_EXHAUSTED, "the spend permit's maximum is reached");

    const id = c.get("requestId");
    const requestHash = `0x${createHash("sha256").update(await bodyBytes(c)).digest("hex")}` as Hex32;
    let final: Usage | null = null;
    const inner: Meter = c.get("meter");
    c.set("meter", {
      begin: (m) => inner.begin(m),
      committed: () => inner.committed(),
      progress(u) {
        running.set(id, u);
        inner.progress(u);
      },
      end(u, status) {
        if (u) final = u;
        return inner.end(u, status);
      },
    });

    // Receipts of this request, one after another; `charged` is what they added so far.
    let charged = 0n;
    let chain: Promise<unknown> = Promise.resolve();
    const issue = (usage: Usage, responseHash: Hex32): Promise<SignedReceipt> => {
      const run = async (): Promise<SignedReceipt> => {
        const r = await book.issue(
          {
            permit,
            model,
            price,
            priceVersion: pricing.version,
            requestHash,
            responseHash,
            promptTokens: BigInt(usage.promptTokens),
            completionTokens: BigInt(usage.completionTokens),
            charged,
            requestId: id,
          },
          now(),
        );
        const total = requestCost(price, BigInt(usage.promptTokens), BigInt(usage.completionTokens));
        if (total > charged) charged = total;
        return r;
      };
      const p = chain.then(run, run);
      chain = p.catch(() => undefined);
      return p;
    };

    try {
      await next();
    } catch (err) {
      running.delete(id);
      throw err;
    }
    const res = c.res;
    if (res.status < 200 || res.status >= 300) {
      running.delete(id);
      return;
    }
    const deliver = (r: SignedReceipt): void => {
      const sealed = sealedExchange(c);
      if (sealed) (sealed as { marketReceipt?: unknown }).marketReceipt = receiptToWire(r);
    };

    const known = bufferedBody(res);
    const stream = known ? null : (streamedBody(res) ?? res.body);
    if (stream && isEventStream(res)) {
      replaceResponse(c, streamedResponse(heldStream(stream, id), { status: res.status, headers: res.headers }));
      return;
    }
    const bytes = known ?? new Uint8Array(await res.arrayBuffer());
    running.delete(id);
    const usage = final ?? { promptTokens: 0, completionTokens: 0 };
    const r = await issueOr500(() => issue(usage, sha(bytes)));
    deliver(r);
    const extra: Record<string, string> = sealedExchange(c) ? {} : { [MARKET_RECEIPT_HEADER]: JSON.stringify(receiptToWire(r)) };
    const plain: Record<string, string> = {};
    if (!known) res.headers.forEach((v, k) => (plain[k] = v));
    replaceResponse(c, withBufferedHeaders(res, extra) ?? bufferedResponse(bytes, { status: res.status, headers: { ...plain, ...extra } }));

    function heldStream(src: ReadableStream<Uint8Array>, requestId: string): ReadableStream<Uint8Array> {
      const reader = src.getReader();
      const hasher = createHash("sha256");
      let held: Uint8Array | null = null;
      let heldUsage: Usage | null = null;
      // Usage of the chunks already handed on (the next layer pulled again, so it took them).
      let released: Usage | null = null;
      let receiptedCompletion = -1;
      const hashNow = (): Hex32 => `0x${hasher.copy().digest("hex")}` as Hex32;
      const interim = async (): Promise<void> => {
        if (!released) return;
        const due = receiptedCompletion < 0 ? released.completionTokens > 0 : BigInt(released.completionTokens - receiptedCompletion) >= every;
        if (!due) return;
        receiptedCompletion = released.completionTokens;
        await issue(released, hashNow());
      };
      let finished = false;
      const finish = async (aborted: boolean): Promise<void> => {
        if (finished) return;
        finished = true;
        running.delete(requestId);
        if (aborted) {
          // The client left (or the stream broke): pay for what was handed on, nothing held.
          if (released && released.completionTokens > Math.max(receiptedCompletion, 0)) await issue(released, hashNow()).catch(() => undefined);
          return;
        }
        const usage = final ?? heldUsage ?? released ?? { promptTokens: 0, completionTokens: 0 };
        const r = await issueOr500(() => issue(usage, `0x${hasher.digest("hex")}` as Hex32));
        deliver(r);
      };
      return new ReadableStream<Uint8Array>(
        {
          async pull(ctrl) {
            try {
              await interim();
              // A pull that enqueues nothing is not called again (WHATWG streams): read on
              // until there is a chunk to hand over, or the end.
              for (;;) {
                const { done, value } = await reader.read();
                if (done) {
                  await finish(false);
                  if (held) ctrl.enqueue(held);
                  ctrl.close();
                  return;
                }
                hasher.update(value);
                const prev = held;
                const prevUsage = heldUsage;
                held = value;
                heldUsage = running.get(requestId) ?? final;
                if (prev) {
                  ctrl.enqueue(prev);
                  released = prevUsage;
                  return;
                }
              }
            } catch (err) {
              await finish(true);
              ctrl.error(err);
            }
          },
          async cancel(reason) {
            await finish(true);
            await reader.cancel(reason).catch(() => undefined);
          },
        },
        { highWaterMark: 0 },
      );
    }
  };

  const issueOr500 = async (f: () => Promise<SignedReceipt>): Promise<SignedReceipt> => {
    try {
      return await f();
    } catch (err) {
      // The answer is not released without its receipt: fail closed.
      o.logger?.error("market receipt not stored", { code: isCloisterError(err) ? err.code : "UNKNOWN" });
      if (isCloisterError(err) && err.code === "PERMIT_EXHAUSTED") throw payErr(MarketCode.PERMIT_EXHAUSTED, "the spend permit's maximum is reached");
      throw new GatewayError(500, MarketCode.RECEIPT_NOT_STORED, "the usage receipt could not be stored; the answer is withheld", { cause: err });
    }
  };

  return {
    middleware,
    receiptEveryTokens: Number(every),
    tapProgress: (p) => ({
      begin: (id) => p.begin(id),
      record(id, u) {
        running.set(id, u);
        p.record(id, u);
      },
      take: (id) => p.take(id),
    }),
    receiptRoute: async (c) => {
      const id = c.req.param("id") ?? "";
      const r = await o.store.byRequest?.(id);
      if (!r) throw new GatewayError(404, "NOT_FOUND", "no market receipt for this request id");
      return c.json(receiptToWire(r));
    },
  };
}

function sha(bytes: Uint8Array): Hex32 {
  return `0x${createHash("sha256").update(bytes).digest("hex")}` as Hex32;
}
