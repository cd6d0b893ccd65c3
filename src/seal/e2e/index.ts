/** End-to-end envelopes v1: HPKE-sealed requests, chunk-sealed responses (docs/protocol.md). Browser-safe. */
export { E2ECode } from "./codes.js";
export { E2E_CONTENT_TYPE, E2E_VERSION, E2EHeader, fromBase64Url, toBase64Url } from "./headers.js";
export { requestAad, type RequestMeta } from "./aad.js";
export { E2E_INFO, e2eKeyId, e2eSuite, generateE2EKeyPair, type E2EKeyPair } from "./suite.js";
export { importE2EPrivateKey, openRequest, sealRequest, type OpenedRequest, type SealedRequest } from "./request.js";
export { FrameOpener, FrameSealer, MAX_FRAME_CIPHERTEXT, nobleAesGcm, type FrameAead, type FrameKeys, type OpenedFrame } from "./frames.js";
export { MAX_FRAME_BODY, paddedLength } from "./padding.js";
export {
  deriveResponseKeys,
  openBody,
  openingStream,
  randomResponseNonce,
  RESPONSE_NONCE_LENGTH,
  sealBody,
  sealedStream,
  type Trailers,
} from "./response.js";
