/**
 * HTTP headers of the E2E v1 envelope (docs/protocol.md, "End-to-end encryption").
 * Everything else a request carries stays in the sealed body; these are the only
 * plaintext metadata, kept to what routing and key selection need.
 */
export const E2E_VERSION = "v1";

export const E2EHeader = {
  /** "v1" on a sealed request and on its sealed response. */
  version: "x-cloister-e2e",
  /** Base64url HPKE encapsulated key (32 bytes for X25519), request only. */
  enc: "x-cloister-e2e-enc",
  /** Hex SHA-256 of the recipient's raw X25519 public key: lets the node say "not my key". */
  keyId: "x-cloister-e2e-key-id",
  /** Routing metadata (also bound into the AEAD's associated data). */
  model: "x-cloister-e2e-model",
  stream: "x-cloister-e2e-stream",
  /** Base64url HPKE-sealed credential ("Bearer <API key>"), request only: no plaintext Authorization under E2E. */
  auth: "x-cloister-e2e-auth",
  /** Base64url HPKE-sealed spend permit (the market), request only: the plain X-Cloister-Permit never travels beside an envelope. */
  permit: "x-cloister-e2e-permit",
  /** The client's clock, decimal seconds since the epoch; bound into the AAD (aad.ts). Request only. */
  time: "x-cloister-e2e-time",
  /**
   * The sealed body's own media type. On a request only when it is not JSON (a Privacy Pass
   * token request), and then bound into the AAD (aad.ts); on a response always.
   */
  contentType: "x-cloister-e2e-content-type",
  /** Base64url 32-byte random response nonce chosen by the node (RFC 9458 §4.4 style), response only. */
  responseNonce: "x-cloister-e2e-response-nonce",
} as const;

/**
 * The request's inner media type as the AAD binds it: undefined for JSON (or none), which
 * every OpenAI route sends, else the header's value as sent. Null when no envelope may
 * carry it (too long, or not visible ASCII).
 */
export function innerRequestType(contentType: string | null | undefined): string | undefined | null {
  if (contentType == null || contentType === "") return undefined;
  if ((contentType.split(";")[0] ?? "").trim().toLowerCase() === "application/json") return undefined;
  return /^[\x21-\x7e][\x20-\x7e]{0,126}$/.test(contentType) ? contentType : null;
}

/** Content type of a sealed body in either direction. */
export const E2E_CONTENT_TYPE = "application/cloister-e2e";

export function toBase64Url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Returns null on anything that is not unpadded or padded base64url/base64. */
export function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_\-+/]*={0,2}$/.test(text)) return null;
  try {
    const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}
