/**
 * HTTP header names of the Cloister wire protocol outside E2E (docs/protocol.md,
 * "Signatures"); E2E's own headers are in ./e2e/headers.ts. One definition for the node
 * and the client, so the two cannot drift. HTTP header names are case-insensitive.
 */
export const SIGNATURE_HEADER = "x-cloister-signature";
export const SIGNING_ALGO_HEADER = "x-cloister-signing-algo";
export const REQUEST_ID_HEADER = "x-cloister-request-id";
/** 32 random bytes as hex per plain request; the node appends it to the signed text. */
export const CLIENT_NONCE_HEADER = "x-cloister-client-nonce";
/** The original content type of a sealed response (the body itself is application/cloister-e2e). */
export const E2E_INNER_CONTENT_TYPE_HEADER = "x-cloister-e2e-content-type";
