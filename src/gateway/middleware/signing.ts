/**
 * Response signatures (docs/protocol.md "Signatures"): for every successful completion,
 *   text = sha256hex(request body bytes) + ":" + sha256hex(response body bytes)
 *          [+ ":" + client nonce, only when the request sent X-Cloister-Client-Nonce]
 * The nonce makes a plain answer fresh: without it, the signed text of two identical
 * requests is identical, so anything between TLS and the node could replay an old
 * answer. Without the header the text stays NEAR-style two fields.
 * signed by the node's attested key. The hashes cover the PLAINTEXT exchanged with the
 * handler, so this runs inside any E2E middleware. For a stream the response hash runs
 * over the exact SSE bytes, in order, and the signature is made after the last byte is
 * handed on but before the stream closes, so it is stored (and, over HTTP/1.1 chunked,
 * sent as a trailer) before the client sees the end.
 */
import { createHash, hash } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { GatewayError } from "../../errors.js";
import type { Signer, SigningAlgo, SignedText } from "../../seal/signing.js";
import type { Store } from "../../store/store.js";
import type { GatewayEnv } from "../context.js";
import { bodyBytes, replaceResponse } from "../context.js";
import { GatewayCode } from "../errors.js";
import { sniffId } from "../passthrough.js";
import type { SigningPool } from "../signing-pool.js";
import { sealedExchange } from "../sealed-exchange.js";
import { bufferedBody, bufferedResponse, isEventStream, streamedBody, streamedResponse, tapStream, withBufferedHeaders, headerRecord } from "../stream-tap.js";
import { CLIENT_NONCE_HEADER, SIGNATURE_HEADER, SIGNING_ALGO_HEADER } from "../../seal/headers.js";

export { CLIENT_NONCE_HEADER, SIGNATURE_HEADER, SIGNING_ALGO_HEADER } from "../../seal/headers.js";

/** The exchange's leaf index in the node's receipt log (plain exchanges; sealed ones carry it in the sealed trailer). */
export const RECEIPT_INDEX_HEADER = "x-cloister-receipt-index";

/** 32 bytes as lowercase hex, or null when absent; anything else is a 400. */
export function parseClientNonce(value: string | undefined | null): string | null {
  if (value == null) return null;
  if (!/^[0-9a-f]{64}$/.test(value)) throw new GatewayError(400, GatewayCode.INVALID_PARAMS, `${CLIENT_NONCE_HEADER} must be 32 bytes as 64 lowercase hex characters`, { param: CLIENT_NONCE_HEADER });
  return value;
}

export type Signers = Readonly<Record<SigningAlgo, Signer>>;

export function parseSigningAlgo(value: string | undefined | null, param: string): SigningAlgo {
  if (value == null || value === "" || value === "ecdsa") return "ecdsa";
  if (value === "ed25519") return "ed25519";
  throw new GatewayError(400, GatewayCode.INVALID_PARAMS, `${param} must be "ecdsa" or "ed25519"`, { param });
}

/** Node's ServerResponse, when present, can send HTTP/1.1 trailers (RFC 9110 §6.5). */
interface TrailerSink {
  addTrailers(headers: Record<string, string>): void;
}
function trailerSink(outgoing: unknown): TrailerSink | null {
  if (typeof outgoing === "object" && outgoing !== null && "addTrailers" in outgoing && typeof outgoing.addTrailers === "function") {
    const o = outgoing as TrailerSink;
    return { addTrailers: (h) => o.addTrailers(h) };
  }
  return null;
}

export interface SigningDeps {
  readonly signers: Signers;
  readonly store: Store;
  /** Signs on worker threads (./signing-pool.ts) when given; the main thread signs if the pool fails. */
  readonly pool?: SigningPool;
  /**
   * Told once of every signed exchange, sealed or not (the receipt log; hashes only), with
   * the answer's own id when it differs from the request id (a pass-through body).
   */
  readonly onSigned?: (id: string, signed: SignedText, alias: string | null, sealed: boolean) => { readonly index: number; readonly salt: string } | void;
}

export function signing(deps: SigningDeps): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const algo = parseSigningAlgo(c.req.header(SIGNING_ALGO_HEADER), SIGNING_ALGO_HEADER);
    const signer = deps.signers[algo];
    const nonce = parseClientNonce(c.req.header(CLIENT_NONCE_HEADER));
    const requestBody = await bodyBytes(c);
    // Hashed in the turn after this one, while the backend works (the request has gone
    // upstream by then): not on the way to the upstream call. sign() hashes it itself if
    // the answer comes first.
    let requestHash: string | null = null;
    const hashRequest = (): string => (requestHash ??= sha256hex(requestBody));
    const early = setImmediate(hashRequest);
    try {
      await next();
    } finally {
      clearImmediate(early);
    }
    const res = c.res;
    if (res.status < 200 || res.status >= 300) return;
    const known = bufferedBody(res);
    // `res.body` is read only for a Response not made by bufferedResponse/streamedResponse:
    // on the node server's lightweight Response that access builds a full one (slow path).
    const stream = known ? null : (streamedBody(res) ?? res.body);
    if (!known && !stream) return;

    const id = c.get("requestId");
    // Pass-through bodies carry the upstream's own id: the signature is found by either.
    let bodyId: string | null = null;
    // The exchange's leaf in the receipt log (docs/protocol.md "Receipt log"): a header, or
    // the sealed trailer's receipt_index when the exchange is sealed.
    let receiptIndex: number | null = null;
    const sign = async (responseHash: string): Promise<SignedText> => {
      const req = hashRequest();
      const text = nonce ? `${req}:${responseHash}:${nonce}` : `${req}:${responseHash}`;
      const signature = deps.pool ? await deps.pool.sign(algo, text).catch(() => signer.sign(text)) : signer.sign(text);
      const signed: SignedText = { text, signature, signing_address: signer.address, signing_algo: algo };
      const alias = bodyId && bodyId !== id ? bodyId : null;
      const sealed = sealedExchange(c);
      const logged = deps.onSigned?.(id, signed, alias, sealed !== undefined);
      if (logged) receiptIndex = logged.index;
      // A sealed exchange's signature goes only into its sealed trailer (src/gateway/e2e.ts),
      // never to the store that GET /v1/signature/<id> serves in the clear; so does its
      // receipt salt, which GET /v1/receipts/<id> leaves out for it.
      if (sealed) {
        sealed.signature = signed;
        if (logged) {
          sealed.receiptIndex = logged.index;
          sealed.receiptSalt = logged.salt;
        }
        return signed;
      }
      // Visible to GET /v1/signature/<id> once this resolves; committed within 10 ms (src/store/group-commit.ts).
      // One row; the body's own id is an alias of it (the first key to use a name keeps it).
      await deps.store.putSignature({ id, algo, text, signature: signed.signature, address: signer.address, keyId: c.get("keyId"), alias });
      return signed;
    };

    if (stream && isEventStream(res)) {
      const hasher = createHash("sha256");
      let first = true;
      // Under E2E the signature travels sealed (its hashes would let an observer confirm a
      // guessed prompt), so no plaintext trailer then.
      const sink = c.req.header("x-cloister-e2e") === undefined ? trailerSink(c.env?.outgoing) : null;
      const body = tapStream(stream, {
        chunk: (b) => {
          if (first) (first = false), (bodyId = sniffId(b));
          hasher.update(b);
        },
        end: async () => {
          const signed = await sign(hasher.digest("hex"));
          sink?.addTrailers({ [SIGNATURE_HEADER]: JSON.stringify(signed), ...(receiptIndex !== null ? { [RECEIPT_INDEX_HEADER]: String(receiptIndex) } : {}) });
        },
      });
      const extra: Record<string, string> = sink
        ? // Trailers need chunked framing; this also stops the adapter from buffering a short stream to set Content-Length.
          { trailer: `${SIGNATURE_HEADER}, ${RECEIPT_INDEX_HEADER}`, "transfer-encoding": "chunked" }
        : {};
      // The tap usually joins the stream an inner layer already tapped (same object): then
      // the response stays as it is and only gains headers.
      if (body !== stream || !setHeaders(res, extra)) replaceResponse(c, streamedResponse(body, { status: res.status, headers: withHeaders(res.headers, extra) }));
      return;
    }
    const bytes = known ?? new Uint8Array(await res.arrayBuffer());
    bodyId = sniffId(bytes);
    const signed = await sign(sha256hex(bytes));
    const sealedNow = sealedExchange(c) !== undefined;
    const header = { [SIGNATURE_HEADER]: JSON.stringify(signed), ...(receiptIndex !== null && !sealedNow ? { [RECEIPT_INDEX_HEADER]: String(receiptIndex) } : {}) };
    replaceResponse(c, withBufferedHeaders(res, header) ?? bufferedResponse(bytes, { status: res.status, headers: headerRecord(withHeaders(res.headers, header)) }));
  };
}

/** SHA-256 in hex via OpenSSL: this file runs only in the node (src/seal stays browser-safe with @noble). */
function sha256hex(bytes: Uint8Array): string {
  // One-shot: no Hash object per digest (1.2 µs instead of 2.5 µs for a 400-byte body).
  return hash("sha256", bytes, "hex");
}

/** Sets headers in place; false when the Response's headers are immutable (a fetched one). */
function setHeaders(res: Response, extra: Record<string, string>): boolean {
  try {
    for (const [k, v] of Object.entries(extra)) res.headers.set(k, v);
    return true;
  } catch {
    return false;
  }
}

function withHeaders(base: Headers, extra: Record<string, string>): Headers {
  const h = new Headers(base);
  for (const [k, v] of Object.entries(extra)) h.set(k, v);
  return h;
}
