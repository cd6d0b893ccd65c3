/**
 * `cloister/client`: the verifying client. Attest once with our own nonce, pin the keys,
 * seal every request end to end, and check every answer's signature before the caller
 * sees it. Browser-safe: no Node imports on the static path (the default report verifier
 * is loaded lazily; browsers pass `verifyReport`).
 */
export { ClientCode } from "./codes.js";
export { attestNode, type AttestOptions, type PinnedNode, type SigningAlgo } from "./attestation.js";
export { createVerifiedFetch, type VerifiedFetch, type VerifiedFetchOptions } from "./verified-fetch.js";
export {
  DISCOVERY_BASE_URL,
  retryAfterMs,
  type DiscoveringFetch,
  type DiscoveryOptions,
  type DiscoverySourceOptions,
  type FailoverEvent,
} from "./discovering-fetch.js";
export { chainNodeSource, directoryNodeSource, parseNodeList, type DiscoveryChain, type NodeQuery, type NodeSource } from "./node-source.js";
export { endpointBaseURL, rankByRoundTrip, type RankedNode } from "./node-ranking.js";
export type { WireNode, WireNodeList, WireNodeModel } from "../ledger/nodes-wire.js";
export type { ReportVerifier, ReportVerifierOptions, VerifiedReport } from "./verifier.js";
export { checkSignature } from "./signature.js";
export { clientErrorOf, VERIFICATION_ERROR_TYPE, VERIFICATION_FAILURE_STATUS } from "./failure.js";
export { checkPins, createMemoryPinStore, PINNED_MEASUREMENTS, UNPINNED_SIMULATED_WARNING, UNPINNED_WARNING, type PinRecord, type PinStore } from "./pins.js";
export {
  createCloisterClient,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionParams,
  type ChatMessageParam,
  type CloisterClient,
  type CloisterClientOptions,
} from "./cloister-client.js";
