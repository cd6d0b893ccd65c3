/**
 * Associated data of a sealed request (RFC 9180 §5.2 `aad`). It binds the ciphertext to
 * where and how it was sent, so a proxy cannot replay a sealed body to another route,
 * flip the stream flag, or relabel the model: opening fails unless every field matches
 * what the node actually routed on. The client's clock (`time`) is bound too, so the node
 * can refuse a sealed body outside a ±5 minute window and need remember encapsulated
 * keys only for that window (a FIFO of fixed size let a replay through once evicted).
 */
import { utf8 } from "../../util/bytes.js";

export interface RequestMeta {
  /** Upper-case HTTP method. */
  readonly method: string;
  /**
   * The node's route, without the query: the node uses its own request path; the client
   * "/v1/" + the path relative to its baseURL (so a proxy's prefix does not matter, and
   * no path is ever searched for "/v1/").
   */
  readonly route: string;
  /** The `model` field, or "" when the body has none. */
  readonly model: string;
  readonly stream: boolean;
  /** Hex key id of the recipient key (SHA-256 of the attested X25519 public key). */
  readonly keyId: string;
  /** The client's clock when it sealed, whole seconds since the Unix epoch (X-Cloister-E2E-Time). */
  readonly time: number;
  /**
   * The sealed body's own media type when it is not JSON (X-Cloister-E2E-Content-Type, e.g.
   * a Privacy Pass token request), bound as an eighth field; absent for JSON, which keeps
   * the seven-field aad. No field holds a line break, so the two forms cannot collide.
   */
  readonly contentType?: string;
}

/** How far the client's `time` may be from the node's clock, either way (seconds). */
export const E2E_TIME_WINDOW_S = 300;

/** Canonical, newline-separated; no field may contain a newline (checked). */
export function requestAad(meta: RequestMeta): Uint8Array {
  if (!Number.isSafeInteger(meta.time) || meta.time < 0) throw new TypeError("E2E time must be whole seconds since the epoch");
  const fields = ["cloister/e2e/v1 request", meta.method.toUpperCase(), meta.route, meta.model, meta.stream ? "stream" : "nostream", meta.keyId, String(meta.time)];
  if (meta.contentType !== undefined) fields.push(meta.contentType);
  for (const f of fields) if (/[\r\n]/.test(f)) throw new TypeError("E2E metadata must not contain line breaks");
  return utf8.encode(fields.join("\n"));
}
