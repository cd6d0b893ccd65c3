/**
 * E2E v1, node side (docs/protocol.md, "End-to-end encryption"): opens HPKE-sealed
 * requests and seals the response back, frame by frame, so a stream stays a stream.
 * Mounted OUTERMOST on the inference routes: everything inside (auth, limits, signing,
 * handlers) sees plaintext, so signatures cover the plaintext bodies, and nothing
 * outside the enclave (TLS terminator, load balancer) ever does.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import type { Context, MiddlewareHandler, Next } from "hono";
import { GatewayError, SealError } from "../errors.js";
import { E2E_TIME_WINDOW_S, requestAad } from "../seal/e2e/aad.js";
import { E2ECode } from "../seal/e2e/codes.js";
import type { FrameAead } from "../seal/e2e/frames.js";
import { E2E_CONTENT_TYPE, E2E_VERSION, E2EHeader, fromBase64Url, innerRequestType, toBase64Url } from "../seal/e2e/headers.js";
import { importE2EPrivateKey, openRequest } from "../seal/e2e/request.js";
import { deriveResponseKeys, randomResponseNonce, sealBody, sealedStream, type Trailers } from "../seal/e2e/response.js";
import { e2eKeyId } from "../seal/e2e/suite.js";
import type { SignedText, SigningAlgo } from "../seal/signing.js";
import { bodyBytes, setBodyBytes } from "./context.js";
import { bufferedBody, bufferedResponse, headerRecord, streamedBody, streamedResponse } from "./stream-tap.js";
import { readPrefix } from "../inference/upstream/bounded-read.js";
import { errorResponse } from "./errors.js";
import { nodeE2ESuite } from "./hpke-node.js";
import { E2E_INNER_CONTENT_TYPE_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER } from "../seal/headers.js";
import { utf8 } from "../util/bytes.js";
import { markSealed } from "./sealed-exchange.js";


export interface E2EMiddlewareOptions {
  /** Raw 32-byte X25519 key pair; the public half is the one the attestation report binds. */
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  /** Refuse plain requests (`cloister up --require-e2ee`). */
  readonly required: boolean;
  /** Largest sealed body accepted (default 8 MiB). */
  readonly maxBodyBytes?: number;
  /**
   * The signature of a completed response, for streams whose signature is only known after
   * the last byte (the gateway's signature store). Called after the inner body ended.
   */
  readonly signatureFor?: (requestId: string, algo: SigningAlgo) => SignedText | null | undefined | Promise<SignedText | null | undefined>;
  /**
   * Past this many remembered encapsulated keys, expired ones are swept (default 100 000).
   * Keys still inside the time window are never dropped (that would re-open a replay).
   */
  readonly replayCacheSize?: number;
  /** The node's clock in ms (tests). */
  readonly now?: () => number;
}

/** AES-256-GCM from node:crypto (OpenSSL): the node seals one frame per SSE event, so this is the hot path. */
export const nodeAesGcm: FrameAead = {
  encrypt(key, nonce, aad, plaintext) {
    const c = createCipheriv("aes-256-gcm", key, nonce);
    c.setAAD(aad);
    const head = c.update(plaintext);
    const tail = c.final();
    const out = new Uint8Array(head.length + tail.length + 16);
    out.set(head, 0);
    out.set(tail, head.length);
    out.set(c.getAuthTag(), head.length + tail.length);
    return out;
  },
  decrypt(key, nonce, aad, ciphertext) {
    const d = createDecipheriv("aes-256-gcm", key, nonce);
    d.setAAD(aad);
    d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
    const head = d.update(ciphertext.subarray(0, ciphertext.length - 16));
    return new Uint8Array(Buffer.concat([head, d.final()]));
  },
};

/** Requests this module rebuilt around opened plaintext: mounted twice, the inner copy passes them on. */
const openedRequests = new WeakSet<Request>();

/**
 * Marks a request made inside this process (an agent's inference, re-entering the app from
 * its egress proxy): it never crossed the network, so there is nothing to open or seal, and
 * no outsider can produce one — only code holding the Request object can mark it. This is
 * what lets agents call the node's models on an E2E-only node (`--require-e2ee`) without
 * a plaintext route for anyone else.
 */
export function markInProcess(req: Request): Request {
  openedRequests.add(req);
  return req;
}

function e2eError(code: string, message: string): Response {
  return errorResponse(new GatewayError(400, code, message));
}

/**
 * Encapsulated keys seen within the time window. Each is a fresh ephemeral key, so a
 * repeat is a replay. An entry is kept until its request's time leaves the window (after
 * that the request is refused as stale anyway), never dropped earlier: a fixed-size FIFO
 * let a replay through once enough other traffic had evicted it. Memory is bounded by
 * the request rate over 2 × 5 minutes.
 */
class ReplayCache {
  private readonly seen = new Map<string, number>();
  constructor(private readonly sweepAt: number) {}
  /** False when `key` was already there. `expiresMs`: when the request's time leaves the window. */
  add(key: string, expiresMs: number, nowMs: number): boolean {
    if (this.seen.has(key)) return false;
    if (this.seen.size >= this.sweepAt) {
      for (const [k, exp] of this.seen) if (exp < nowMs) this.seen.delete(k);
    }
    this.seen.set(key, expiresMs);
    return true;
  }
}

export function e2eMiddleware(opts: E2EMiddlewareOptions): MiddlewareHandler {
  if (opts.privateKey.length !== 32 || opts.publicKey.length !== 32) throw new SealError(E2ECode.E2E_MALFORMED, "the E2E key pair must be raw 32-byte X25519 keys");
  const keyId = e2eKeyId(opts.publicKey);
  const maxBody = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  const replay = new ReplayCache(opts.replayCacheSize ?? 100_000);
  const now = opts.now ?? Date.now;
  let recipientKey: Promise<CryptoKey> | null = null;

  return async (c: Context, next: Next) => {
    if (openedRequests.has(c.req.raw)) return next();
    const version = c.req.header(E2EHeader.version);
    if (version === undefined) {
      if (opts.required) return e2eError(E2ECode.E2E_REQUIRED, "this node accepts only end-to-end encrypted requests (X-Cloister-E2E: v1); use the cloister client");
      return next();
    }
    if (version !== E2E_VERSION) return e2eError(E2ECode.E2E_VERSION_UNSUPPORTED, `E2E version ${JSON.stringify(version.slice(0, 16))} is not supported; this node speaks ${E2E_VERSION}`);

    const enc = fromBase64Url(c.req.header(E2EHeader.enc) ?? "");
    if (!enc || enc.length !== 32) return e2eError(E2ECode.E2E_MALFORMED, "missing or invalid X-Cloister-E2E-Enc (base64url 32-byte encapsulated key)");
    if (c.req.header(E2EHeader.keyId) !== keyId) return e2eError(E2ECode.E2E_KEY_UNKNOWN, "the request is sealed to a key this node does not hold; fetch a fresh attestation report");
    const model = c.req.header(E2EHeader.model) ?? "";
    const streamFlag = c.req.header(E2EHeader.stream);
    if (streamFlag !== "true" && streamFlag !== "false") return e2eError(E2ECode.E2E_MALFORMED, "X-Cloister-E2E-Stream must be true or false");

    const timeText = c.req.header(E2EHeader.time) ?? "";
    if (!/^[0-9]{1,15}$/.test(timeText)) return e2eError(E2ECode.E2E_MALFORMED, "missing or invalid X-Cloister-E2E-Time (decimal seconds since the epoch)");
    const time = Number(timeText);
    const nowMs = now();
    if (Math.abs(nowMs / 1000 - time) > E2E_TIME_WINDOW_S) return e2eError(E2ECode.E2E_STALE, "X-Cloister-E2E-Time is more than 5 minutes from the node's clock (check the client's clock)");

    const declared = Number(c.req.header("content-length") ?? "NaN");
    if (declared > maxBody) return errorResponse(new GatewayError(413, "BODY_TOO_LARGE", "request body too large"));
    // Declared: the server reads exactly that many bytes. Not declared (chunked): read no
    // further than the limit, so an envelope cannot make the node buffer a body whole.
    const sealed = Number.isFinite(declared) ? await bodyBytes(c) : await readPrefix(c.req.raw.body, maxBody).then((r) => (r.whole ? r.bytes : null));
    if (sealed === null || sealed.length > maxBody) return errorResponse(new GatewayError(413, "BODY_TOO_LARGE", "request body too large"));

    const permitText = c.req.header(E2EHeader.permit);
    const sealedPermit = permitText === undefined ? null : fromBase64Url(permitText);
    if (permitText !== undefined && (!sealedPermit || sealedPermit.length < 16 || sealedPermit.length > 4096)) {
      return e2eError(E2ECode.E2E_MALFORMED, "invalid X-Cloister-E2E-Permit (base64url sealed spend permit)");
    }
    const authText = c.req.header(E2EHeader.auth);
    const sealedCredential = authText === undefined ? null : fromBase64Url(authText);
    if (authText !== undefined && (!sealedCredential || sealedCredential.length < 16 || sealedCredential.length > 4096)) {
      return e2eError(E2ECode.E2E_MALFORMED, "invalid X-Cloister-E2E-Auth (base64url sealed credential)");
    }

    // The route is the node's own path: the client names it relative to its baseURL, so a
    // proxy's prefix is invisible here and nothing is searched for "/v1/".
    // Absent: the sealed body is JSON (every OpenAI route). Present: bound into the aad, so
    // a proxy that adds, drops or changes it makes the envelope fail to open.
    const innerTypeText = c.req.header(E2EHeader.contentType);
    let innerType: string | undefined;
    if (innerTypeText !== undefined) {
      // A header that names JSON (undefined) or cannot be carried (null) is no type a client sends.
      const t = innerRequestType(innerTypeText);
      if (typeof t !== "string") return e2eError(E2ECode.E2E_MALFORMED, "invalid X-Cloister-E2E-Content-Type (a non-JSON media type, visible ASCII, at most 127 characters; absent for JSON)");
      innerType = t;
    }
    let opened;
    try {
      // Inside the try: a route with a line break (a proxy's %0A: Hono decodes the path) is
      // no aad any client sealed, so it is e2e_decrypt_failed like every other change, not a 500.
      const aad = requestAad({ method: c.req.method, route: c.req.path, model, stream: streamFlag === "true", keyId, time, ...(innerType !== undefined ? { contentType: innerType } : {}) });
      recipientKey ??= importE2EPrivateKey(opts.privateKey, nodeE2ESuite());
      opened = await openRequest(await recipientKey, enc, sealed, aad, sealedCredential, sealedPermit, nodeE2ESuite());
    } catch (err) {
      const code = err instanceof SealError ? err.code : E2ECode.E2E_DECRYPT_FAILED;
      return e2eError(code, "the sealed request could not be opened (altered bytes, another route or metadata, or another key)");
    }
    // Only after it authenticated: a forged envelope must not evict real entries.
    if (!replay.add(toBase64Url(enc), (time + E2E_TIME_WINDOW_S) * 1000, nowMs)) return e2eError(E2ECode.E2E_REPLAY, "this sealed request was already received");

    // Hand the plaintext on as if it had arrived plain (signing hashes exactly these bytes).
    // X-Cloister-E2E stays, so inner layers know the exchange is sealed (e.g. to send no
    // plaintext signature trailer); the envelope's own headers go.
    const headers = new Headers(c.req.raw.headers);
    headers.delete(E2EHeader.enc);
    headers.delete(E2EHeader.keyId);
    headers.delete(E2EHeader.time);
    headers.delete(E2EHeader.auth);
    headers.delete(E2EHeader.permit);
    // Likewise the spend permit: only the sealed one counts (src/market/payments.ts reads it).
    headers.delete("x-cloister-permit");
    const permitValue = opened.permit ? utf8.decode(opened.permit) : "";
    if (permitValue && /^[A-Za-z0-9_-]+$/.test(permitValue)) headers.set("x-cloister-permit", permitValue);
    // The credential of a sealed request is the sealed one only: auth (inside) reads it
    // from here; a plaintext Authorization beside an envelope is ignored, not merged.
    headers.delete("authorization");
    const credential = opened.credential ? utf8.decode(opened.credential) : "";
    if (credential && /^[\x21-\x7e][\x20-\x7e]*$/.test(credential)) headers.set("authorization", credential);
    headers.delete(E2EHeader.contentType);
    headers.set("content-type", innerType ?? "application/json");
    headers.set("content-length", String(opened.plaintext.length));
    // No signal: the request scope (outside) already watches the client and hands every
    // layer its own; following the outer Request's would build its AbortController.
    const plainReq = new Request(c.req.raw.url, { method: c.req.method, headers, body: opened.plaintext.slice() });
    openedRequests.add(plainReq);
    c.req.raw = plainReq;
    c.req.bodyCache = {};
    setBodyBytes(plainReq, opened.plaintext);
    const exchange = markSealed(c);

    await next();

    const inner = c.res;
    const responseNonce = randomResponseNonce();
    const keys = deriveResponseKeys(opened.responseSecret, enc, responseNonce);
    const outHeaders = new Headers(inner.headers);
    const signatureHeader = outHeaders.get(SIGNATURE_HEADER);
    // The signature text is two SHA-256 digests of the plaintexts: in the clear they would
    // let an observer confirm a guessed prompt or answer, so it travels sealed.
    outHeaders.delete(SIGNATURE_HEADER);
    outHeaders.delete("content-length");
    // In the clear for the caller's HTTP stack, and again in the sealed trailers, where a
    // proxy cannot change it: the client refuses an answer whose header differs.
    const innerContentType = inner.headers.get("content-type") ?? "application/octet-stream";
    outHeaders.set(E2E_INNER_CONTENT_TYPE_HEADER, innerContentType);
    outHeaders.set("content-type", E2E_CONTENT_TYPE);
    outHeaders.set(E2EHeader.version, E2E_VERSION);
    outHeaders.set(E2EHeader.responseNonce, toBase64Url(responseNonce));
    const requestId = outHeaders.get(REQUEST_ID_HEADER) ?? readVar(c, "requestId");

    const trailers = async (): Promise<Trailers> => {
      const fromHeader = parseSignature(signatureHeader) ?? exchange.signature;
      // The market receipt (when the request carried a permit) rides in the same sealed trailers.
      const sealedExtras = { content_type: innerContentType, ...(exchange.marketReceipt !== undefined ? { market_receipt: exchange.marketReceipt } : {}) };
      if (fromHeader) return { signature: fromHeader, ...sealedExtras, ...(exchange.receiptIndex !== undefined ? { receipt_index: exchange.receiptIndex } : {}), ...(exchange.receiptSalt !== undefined ? { receipt_salt: exchange.receiptSalt } : {}) };
      if (opts.signatureFor && requestId) {
        const s = await opts.signatureFor(requestId, c.req.header("x-cloister-signing-algo") === "ed25519" ? "ed25519" : "ecdsa");
        if (s) return { signature: s, ...sealedExtras };
      }
      return { ...sealedExtras };
    };
    const known = bufferedBody(inner);
    c.res = undefined;
    if (known) {
      // A body already in memory (every non-streamed answer) is sealed at once: no streams.
      c.res = bufferedResponse(sealBody(keys, known, await trailers(), nodeAesGcm), { status: inner.status, headers: headerRecord(outHeaders) });
      return undefined;
    }
    // Status first: on the node server's lightweight Response it builds the full one from the body, which must not be locked yet.
    const init = { status: inner.status, statusText: inner.statusText, headers: outHeaders };
    const body = sealedStream(streamedBody(inner) ?? inner.body ?? new ReadableStream<Uint8Array>({ start: (ctl) => ctl.close() }), keys, trailers, nodeAesGcm);
    // Made with streamedResponse: the scope and signing layers outside take its stream as it is.
    c.res = streamedResponse(body, init);
    return undefined;
  };
}


function readVar(c: Context, name: string): string | undefined {
  const v: unknown = c.get(name as never);
  return typeof v === "string" ? v : undefined;
}

function parseSignature(header: string | null): SignedText | null {
  if (!header) return null;
  try {
    const v: unknown = JSON.parse(header);
    if (v && typeof v === "object" && "text" in v && "signature" in v) return v as SignedText;
  } catch {
    // not JSON: leave it out; the client will ask GET /v1/signature/<id>
  }
  return null;
}
