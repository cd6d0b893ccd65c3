/**
 * Response signatures (docs/protocol.md "Signatures"): for every successful completion,
 *   text = sha256hex(request body bytes) + ":" + sha256hex(response body bytes)
 * signed by the node's attested key. The hashes cover the PLAINTEXT exchanged with the
 * handler, so this runs inside any E2E middleware. For a stream the response hash runs
 * over the exact SSE bytes, in order, and the signature is made after the last byte is
 * handed on but before the stream closes, so it is stored (and, over HTTP/1.1 chunked,
 * sent as a trailer) before the client sees the end.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import type { MiddlewareHandler } from "hono";
import { GatewayError } from "../../errors.js";
import type { Signer, SigningAlgo, SignedText } from "../../seal/signing.js";
import type { Store } from "../../store/store.js";
import { toHex } from "../../util/bytes.js";
import type { GatewayEnv } from "../context.js";
import { bodyBytes, replaceResponse } from "../context.js";
import { GatewayCode } from "../errors.js";
import { sniffId } from "../passthrough.js";
import { isEventStream, tapStream } from "../stream-tap.js";

export const SIGNATURE_HEADER = "X-Cloister-Signature";
export const SIGNING_ALGO_HEADER = "X-Cloister-Signing-Algo";

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

export function signing(deps: { signers: Signers; store: Store }): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const algo = parseSigningAlgo(c.req.header(SIGNING_ALGO_HEADER), SIGNING_ALGO_HEADER);
    const signer = deps.signers[algo];
    const requestHash = toHex(sha256(await bodyBytes(c)));
    await next();
    const res = c.res;
    if (res.status < 200 || res.status >= 300 || !res.body) return;

    const id = c.var.requestId;
    // Pass-through bodies carry the upstream's own id: the signature is found by either.
    let bodyId: string | null = null;
    const sign = async (responseHash: string): Promise<SignedText> => {
      const text = `${requestHash}:${responseHash}`;
      const signed: SignedText = { text, signature: signer.sign(text), signing_address: signer.address, signing_algo: algo };
      await deps.store.putSignature({ id, algo, text, signature: signed.signature, address: signer.address });
      if (bodyId && bodyId !== id) await deps.store.putSignature({ id: bodyId, algo, text, signature: signed.signature, address: signer.address });
      return signed;
    };

    const headers = new Headers(res.headers);
    if (isEventStream(res)) {
      const hasher = sha256.create();
      let first = true;
      // Under E2E the signature travels sealed (its hashes would let an observer confirm a
      // guessed prompt), so no plaintext trailer then.
      const sink = c.req.header("x-cloister-e2e") === undefined ? trailerSink(c.env?.outgoing) : null;
      if (sink) {
        headers.set("trailer", SIGNATURE_HEADER);
        // Trailers need chunked framing; this also stops the adapter from buffering a short stream to set Content-Length.
        headers.set("transfer-encoding", "chunked");
      }
      const body = tapStream(res.body, {
        chunk: (b) => {
          if (first) (first = false), (bodyId = sniffId(b));
          hasher.update(b);
        },
        end: async () => {
          const signed = await sign(toHex(hasher.digest()));
          sink?.addTrailers({ [SIGNATURE_HEADER]: JSON.stringify(signed) });
        },
      });
      replaceResponse(c, new Response(body, { status: res.status, headers }));
      return;
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    bodyId = sniffId(bytes);
    const signed = await sign(toHex(sha256(bytes)));
    headers.set(SIGNATURE_HEADER, JSON.stringify(signed));
    replaceResponse(c, new Response(bytes, { status: res.status, headers }));
  };
}
