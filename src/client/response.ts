/**
 * Turns what the node sent back into a plain Response for the caller, checking as it
 * goes: sealed frames are opened (E2E), the plaintext is hashed, and the signature is
 * checked against the pinned key. A non-stream is checked before it is returned; a stream
 * passes events through as they are opened and errors at the end if the signature fails
 * (or is buffered whole first, with verifyStreamBeforeRelease).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { ClientError, SealError } from "../errors.js";
import { FrameOpener, type FrameKeys } from "../seal/e2e/frames.js";
import { E2EHeader } from "../seal/e2e/headers.js";
import { toHex, utf8 } from "../util/bytes.js";
import type { PinnedNode } from "./attestation.js";
import { ClientCode } from "./codes.js";
import { EndHold } from "./end-hold.js";
import { checkSignature } from "./signature.js";
import { E2E_INNER_CONTENT_TYPE_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER } from "../seal/headers.js";

export { CLIENT_NONCE_HEADER, REQUEST_ID_HEADER, SIGNATURE_HEADER } from "../seal/headers.js";

export interface ResponseCheck {
  readonly pinned: PinnedNode;
  readonly requestSha256: string;
  /** The X-Cloister-Client-Nonce we sent (plain requests); the signed text must end with it. */
  readonly clientNonce?: string;
  /** Present when the response is sealed. */
  readonly keys: FrameKeys | null;
  readonly stream: boolean;
  readonly verifyStreamBeforeRelease: boolean;
  /** Fetches GET /v1/signature/<id> when neither a header nor a sealed trailer carried it. */
  readonly fetchSignature: (requestId: string) => Promise<unknown>;
  /** Called when the answer is signed by another key: the pin may be stale (a restarted node), so the next call re-attests. */
  readonly onSignerMismatch?: () => void;
  /** Told the market receipt (docs/protocol.md "Paying a node") when the answer carries one. */
  readonly onMarketReceipt?: (receipt: unknown) => void;
}

/** Maps envelope failures onto the client's codes (the names are shared on purpose). */
function asClientError(err: unknown): unknown {
  if (err instanceof SealError) {
    const code = err.code in ClientCode ? err.code : ClientCode.E2E_MALFORMED;
    return new ClientError(code, err.message, { cause: err });
  }
  return err;
}

/** Opens (when sealed) and hashes chunk by chunk; at the end checks the signature. */
/** The exchange's leaf index in the node's receipt log, as the caller sees it (plain: the node's header; sealed: from the sealed trailer). */
export const RECEIPT_INDEX_HEADER = "x-cloister-receipt-index";
/**
 * Set by the verifying client on an opened sealed answer: its receipt-log salt (hex), from
 * the sealed trailer; the node's receipt route does not serve it for a sealed exchange.
 * Pass it to fetchReceipt.
 */
export const RECEIPT_SALT_HEADER = "x-cloister-receipt-salt";

function verifyingStream(check: ResponseCheck, res: Response, headerSignature: unknown, seen: { receiptIndex?: number; receiptSalt?: string }): TransformStream<Uint8Array, Uint8Array> {
  const opener = check.keys ? new FrameOpener(check.keys) : null;
  const hasher = sha256.create();
  let trailerSignature: unknown;
  // The inner media type the node sealed in its trailers (absent from older nodes).
  let sealedType: unknown;
  const requestId = res.headers.get(REQUEST_ID_HEADER);
  // Streams: `data: [DONE]` and the body's end wait for the checks in flush (./end-hold.ts).
  const hold = check.stream ? new EndHold() : null;
  const pass = (bytes: Uint8Array, controller: TransformStreamDefaultController<Uint8Array>): void => {
    hasher.update(bytes);
    const now = hold ? hold.push(bytes) : bytes;
    if (now.length > 0) controller.enqueue(now);
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      try {
        if (!opener) {
          pass(chunk, controller);
          return;
        }
        for (const f of opener.push(chunk)) {
          if (f.final) {
            trailerSignature = trailerField(f.plaintext, "signature");
            const index = trailerField(f.plaintext, "receipt_index");
            if (typeof index === "number" && Number.isSafeInteger(index) && index >= 0) seen.receiptIndex = index;
            const salt = trailerField(f.plaintext, "receipt_salt");
            if (typeof salt === "string" && /^[0-9a-f]{64}$/.test(salt)) seen.receiptSalt = salt;
            sealedType = trailerField(f.plaintext, "content_type");
            const market = trailerField(f.plaintext, "market_receipt");
            if (market !== undefined) check.onMarketReceipt?.(market);
          } else if (f.plaintext.length > 0) {
            pass(f.plaintext, controller);
          }
        }
      } catch (err) {
        throw asClientError(err);
      }
    },
    async flush(controller) {
      await checkEnd();
      const rest = hold?.release();
      if (rest && rest.length > 0) controller.enqueue(rest);
    },
  });

  async function checkEnd(): Promise<void> {
    try {
      opener?.end();
    } catch (err) {
      throw asClientError(err);
    }
    // The caller was handed the clear header's type: it must be the one the node sealed
    // (a proxy relabelling a JSON answer as text, or a token response as JSON, is refused).
    if (opener && sealedType !== undefined && sealedType !== res.headers.get(E2E_INNER_CONTENT_TYPE_HEADER)) {
      throw new ClientError(ClientCode.E2E_MALFORMED, "the sealed answer's media type is not the one in its clear X-Cloister-E2E-Content-Type header");
    }
    // Only successful answers are signed; an error body carries no content of ours.
    if (!res.ok) return;
    let signed = trailerSignature ?? headerSignature;
    if (signed === undefined && requestId) signed = await check.fetchSignature(requestId);
    try {
      checkSignature(check.pinned, signed, check.requestSha256, toHex(hasher.digest()), check.clientNonce);
    } catch (err) {
      if (err instanceof ClientError && err.code === ClientCode.SIGNER_MISMATCH) check.onSignerMismatch?.();
      throw err;
    }
  }
}

function trailerField(bytes: Uint8Array, name: string): unknown {
  try {
    const v: unknown = JSON.parse(utf8.decode(bytes));
    return v !== null && typeof v === "object" ? (v as Record<string, unknown>)[name] : undefined;
  } catch {
    throw new ClientError(ClientCode.E2E_MALFORMED, "the sealed trailers are not JSON");
  }
}

export async function verifiedResponse(check: ResponseCheck, res: Response, headerSignature: unknown): Promise<Response> {
  const headers = new Headers(res.headers);
  const plainReceipt = headers.get("x-cloister-market-receipt");
  if (plainReceipt && check.onMarketReceipt) {
    try {
      check.onMarketReceipt(JSON.parse(plainReceipt));
    } catch {
      // not JSON: not a receipt; the answer itself is checked as usual
    }
  }
  if (check.keys) {
    headers.set("content-type", headers.get(E2E_INNER_CONTENT_TYPE_HEADER) ?? "application/json");
    for (const h of [E2E_INNER_CONTENT_TYPE_HEADER, E2EHeader.version, E2EHeader.responseNonce]) headers.delete(h);
  }
  // The body we hand on is decoded plaintext: its old length and encoding no longer apply.
  headers.delete("content-length");
  headers.delete("content-encoding");
  const source = res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  const seen: { receiptIndex?: number; receiptSalt?: string } = {};
  // Only the sealed trailer may name a sealed exchange's index: a header beside it is anyone's.
  if (check.keys) {
    headers.delete(RECEIPT_INDEX_HEADER);
    headers.delete(RECEIPT_SALT_HEADER);
  }
  const checked = source.pipeThrough(verifyingStream(check, res, headerSignature, seen));
  const init = { status: res.status, statusText: res.statusText, headers };
  if (check.stream && !check.verifyStreamBeforeRelease) return new Response(checked, init);
  // Non-streams (and streams held back on request) are fully checked before the caller sees a byte.
  const all = await new Response(checked).arrayBuffer();
  if (seen.receiptIndex !== undefined) headers.set(RECEIPT_INDEX_HEADER, String(seen.receiptIndex));
  if (seen.receiptSalt !== undefined) headers.set(RECEIPT_SALT_HEADER, seen.receiptSalt);
  return new Response(all, init);
}
