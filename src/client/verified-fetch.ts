/**
 * createVerifiedFetch: a `fetch` for the official `openai` SDK (`new OpenAI({ baseURL,
 * apiKey, fetch })`) that attests the node before sending anything, pins its keys, seals
 * every inference request to the attested E2E key, opens the sealed answer and checks
 * its signature against the pinned signer. Other requests (GET /v1/models) pass through.
 */
import { ClientError } from "../errors.js";
import { canonicalRoute, requestAad } from "../seal/e2e/aad.js";
import { E2E_CONTENT_TYPE, E2E_VERSION, E2EHeader, fromBase64Url, toBase64Url } from "../seal/e2e/headers.js";
import { sealRequest } from "../seal/e2e/request.js";
import { deriveResponseKeys } from "../seal/e2e/response.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { toHex, utf8 } from "../util/bytes.js";
import { apiURL, attestNode, type PinnedNode, type SigningAlgo } from "./attestation.js";
import { ClientCode } from "./codes.js";
import { defaultReportVerifier } from "./default-verifier.js";
import { CLIENT_NONCE_HEADER, SIGNATURE_HEADER, verifiedResponse } from "./response.js";
import { signatureFromHeader } from "./signature.js";
import type { ReportVerifier } from "./verifier.js";

export interface VerifiedFetchOptions {
  /** The node's OpenAI base URL, e.g. "https://node.example/v1". */
  readonly baseURL: string;
  /** Measurement policy handed to the verifier. */
  readonly policy?: unknown;
  /** Accept simulator evidence (never for real data). */
  readonly allowSimulated?: boolean;
  /** Seal requests and responses end to end (default true). */
  readonly e2e?: boolean;
  readonly signingAlgo?: SigningAlgo;
  /** The underlying fetch (default globalThis.fetch). */
  readonly fetch?: typeof fetch;
  /** Report verifier; defaults to src/attest's, loaded lazily (Node only). */
  readonly verifyReport?: ReportVerifier;
  /** Re-attest after this long (default 15 minutes). */
  readonly maxAttestationAgeMs?: number;
  /** Hold a stream back until its signature is checked (default false: events flow, the stream errors at the end on a bad signature). */
  readonly verifyStreamBeforeRelease?: boolean;
  /** Extra headers for the attestation and signature requests. */
  readonly headers?: HeadersInit;
  readonly now?: () => number;
}

export interface VerifiedFetch {
  (input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Attests now (or returns the fresh pin); `force` re-attests regardless of age. */
  attest(force?: boolean): Promise<PinnedNode>;
  /** The pinned node, null before the first successful attestation. */
  readonly pinned: PinnedNode | null;
}

/** The routes whose bodies carry prompts and answers. */
const PROTECTED_ROUTES = new Set(["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/agents/runs"]);

export function createVerifiedFetch(opts: VerifiedFetchOptions): VerifiedFetch {
  if (!/^https?:\/\//.test(opts.baseURL)) throw new ClientError(ClientCode.INVALID_OPTIONS, "baseURL must be an http(s) URL");
  const underlying = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const e2e = opts.e2e ?? true;
  const maxAge = opts.maxAttestationAgeMs ?? 15 * 60_000;
  const now = opts.now ?? Date.now;
  let pinned: PinnedNode | null = null;
  let inflight: Promise<PinnedNode> | null = null;

  const attest = async (force = false): Promise<PinnedNode> => {
    if (!force && pinned && now() - pinned.verifiedAt < maxAge) return pinned;
    inflight ??= attestNode({
      baseURL: opts.baseURL,
      fetch: underlying,
      verifyReport: opts.verifyReport ?? defaultReportVerifier,
      policy: opts.policy,
      allowSimulated: opts.allowSimulated ?? false,
      signingAlgo: opts.signingAlgo ?? "ecdsa",
      ...(opts.headers ? { headers: opts.headers } : {}),
      now,
    })
      .then((p) => (pinned = p))
      .finally(() => (inflight = null));
    return inflight;
  };

  const fetchSignature = (auth: string | null, algo: SigningAlgo) => async (requestId: string): Promise<unknown> => {
    const headers = new Headers(opts.headers);
    if (auth) headers.set("authorization", auth);
    const res = await underlying(apiURL(opts.baseURL, `signature/${encodeURIComponent(requestId)}?signing_algo=${algo}`), { headers });
    if (!res.ok) throw new ClientError(ClientCode.SIGNATURE_MISSING, `no signature for ${requestId} (HTTP ${res.status})`);
    return signatureFromHeader(await res.text());
  };

  const verified = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const route = canonicalRoute(new URL(req.url).pathname);
    if (req.method !== "POST" || !PROTECTED_ROUTES.has(route)) return underlying(input, init);

    const body = new Uint8Array(await req.arrayBuffer());
    const { model, stream } = routingMeta(body);
    const requestSha256 = toHex(sha256(body));
    let node = await attest();
    const auth = req.headers.get("authorization");

    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(req.headers);
      headers.delete("content-length");
      // Ask for signatures by the algorithm we attested (gateway: X-Cloister-Signing-Algo).
      headers.set("x-cloister-signing-algo", node.signingAlgo);
      let sealed: Awaited<ReturnType<typeof sealRequest>> | null = null;
      let wireBody: Uint8Array = body;
      // A plain answer is fresh only if its signature covers something new per request
      // (a sealed one is: its response keys derive from this request's HPKE secret).
      const clientNonce = e2e ? undefined : toHex(randomBytes(32));
      if (clientNonce) headers.set(CLIENT_NONCE_HEADER, clientNonce);
      if (e2e) {
        const time = Math.floor(now() / 1000);
        sealed = await sealRequest(node.e2ePublicKey, body, requestAad({ method: "POST", route, model, stream, keyId: node.e2eKeyId, time }));
        wireBody = sealed.ciphertext;
        headers.set("content-type", E2E_CONTENT_TYPE);
        headers.set(E2EHeader.version, E2E_VERSION);
        headers.set(E2EHeader.enc, toBase64Url(sealed.enc));
        headers.set(E2EHeader.keyId, node.e2eKeyId);
        headers.set(E2EHeader.model, model);
        headers.set(E2EHeader.stream, String(stream));
        headers.set(E2EHeader.time, String(time));
      }
      const res = await underlying(req.url, { method: "POST", headers, body: wireBody.slice(), signal: req.signal });
      const attested = node;
      const check = {
        pinned: attested,
        requestSha256,
        ...(clientNonce ? { clientNonce } : {}),
        stream,
        verifyStreamBeforeRelease: opts.verifyStreamBeforeRelease ?? false,
        fetchSignature: fetchSignature(auth, attested.signingAlgo),
        onSignerMismatch: () => {
          if (pinned === attested) pinned = null;
        },
      };

      if (!sealed) return verifiedResponse({ ...check, keys: null }, res, signatureFromHeader(res.headers.get(SIGNATURE_HEADER)));
      if (res.headers.get(E2EHeader.version) === E2E_VERSION) {
        const nonce = fromBase64Url(res.headers.get(E2EHeader.responseNonce) ?? "");
        if (!nonce || nonce.length !== 32) throw new ClientError(ClientCode.E2E_MALFORMED, "the sealed response has no valid response nonce");
        return verifiedResponse({ ...check, keys: deriveResponseKeys(sealed.responseSecret, sealed.enc, nonce) }, res, undefined);
      }
      // An unsealed answer to a sealed request: either the node refused the envelope, or
      // something in between answered. Neither may hand the caller content.
      const nodeCode = await errorCode(res);
      if (nodeCode === "e2e_key_unknown") {
        if (attempt > 0) throw swapped();
        const fresh = await attest(true);
        // The node we attested holds this key, yet the node answering does not: someone
        // answers attestation requests with another node's report.
        if (fresh.e2eKeyId === node.e2eKeyId) throw swapped();
        node = fresh;
        continue;
      }
      if (nodeCode?.startsWith("e2e_")) throw new ClientError(ClientCode.E2E_REJECTED, `the node refused the sealed request (${nodeCode})`, { details: { nodeCode } });
      if (res.ok) throw new ClientError(ClientCode.E2E_RESPONSE_UNSEALED, "the answer to a sealed request came back in the clear");
      // Plain HTTP errors from in front of the node (auth, rate limits) carry nothing of ours.
      return res;
    }
  };

  // Object.assign would copy the getter's value once; define it so `pinned` stays live.
  return Object.defineProperties(verified, {
    attest: { value: attest, enumerable: true },
    pinned: { get: () => pinned, enumerable: true },
  }) as VerifiedFetch;
}

function swapped(): ClientError {
  return new ClientError(ClientCode.REPORT_SWAPPED, "the node answering does not hold the attested E2E key: the attestation report came from another node");
}

/** The minimal plaintext routing metadata (docs/protocol.md): the model and the stream flag. */
function routingMeta(body: Uint8Array): { model: string; stream: boolean } {
  try {
    const v: unknown = JSON.parse(utf8.decode(body));
    if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      const model = typeof o["model"] === "string" && !/[\r\n]/.test(o["model"]) ? o["model"] : "";
      return { model, stream: o["stream"] === true };
    }
  } catch {
    // not JSON: the node will say so, sealed
  }
  return { model: "", stream: false };
}

async function errorCode(res: Response): Promise<string | undefined> {
  try {
    const v: unknown = await res.clone().json();
    const code = (v as { error?: { code?: unknown } } | null)?.error?.code;
    return typeof code === "string" ? code : undefined;
  } catch {
    return undefined;
  }
}
