/**
 * createVerifiedFetch: a `fetch` for the official `openai` SDK (`new OpenAI({ baseURL,
 * apiKey, fetch })`), the Vercel AI SDK and LangChain, that attests the node before
 * sending anything, pins its keys, seals every POST under the baseURL to the attested E2E
 * key (any route: the route is bound into the AAD), opens the sealed answer and checks
 * its signature against the pinned signer. Only a short list of public reads goes out
 * unsealed (./routes.ts); everything else is refused before a byte leaves. Redirects are
 * never followed. Refusals come back as a non-retryable HTTP error (./failure.ts).
 */
import { ClientError } from "../errors.js";
import { requestAad } from "../seal/e2e/aad.js";
import { E2E_CONTENT_TYPE, E2E_VERSION, E2EHeader, fromBase64Url, innerRequestType, toBase64Url } from "../seal/e2e/headers.js";
import { sealRequest } from "../seal/e2e/request.js";
import { deriveResponseKeys } from "../seal/e2e/response.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "@noble/hashes/utils.js";
import { toHex, utf8 } from "../util/bytes.js";
import { apiURL, attestNode, type AttestOptions, type PinnedNode, type SigningAlgo } from "./attestation.js";
import { ClientCode } from "./codes.js";
import { defaultReportVerifier } from "./default-verifier.js";
import { failureResponse } from "./failure.js";
import { checkPublicAnswer } from "./public-answers.js";
import { classifyRequest, nodeBase, type RouteKind } from "./routes.js";
import { CLIENT_NONCE_HEADER, SIGNATURE_HEADER, verifiedResponse } from "./response.js";
import { signatureFromHeader } from "./signature.js";
import type { ReportVerifier } from "./verifier.js";
import type { ReleaseLogOptions } from "../transparency/release-log.js";
import type { CheckpointState } from "../transparency/log-reader.js";
import { withReleaseLog } from "./release-log.js";
import { resolveReleaseLog } from "./release-log-default.js";
import { policyPins } from "./pins.js";
import { createOhttpTransport, type OhttpTransport } from "../transparency/ohttp/client.js";
import { equalBytes } from "../util/bytes.js";
import { createDiscoveringFetch, type DiscoverySourceOptions } from "./discovering-fetch.js";

/** The relay's key configuration must be the attested E2E key: anything else could be a key per user. */
async function checkRelayKey(relay: OhttpTransport, p: PinnedNode): Promise<void> {
  const config = await relay.keyConfig();
  if (!equalBytes(config.publicKey, p.e2ePublicKey)) {
    throw new ClientError(ClientCode.ATTESTATION_FAILED, "the OHTTP relay's gateway key is not the node's attested key (a key per user would let the node tell users apart)", { details: { attestCodes: ["OHTTP_KEY_NOT_ATTESTED"] } });
  }
}

export interface VerifiedFetchOptions extends DiscoverySourceOptions {
  /**
   * The node's OpenAI base URL, e.g. "https://node.example/v1". Without it the fetch
   * discovers nodes for `model` from `chain`, `directory` or `nodeSource` instead
   * (./discovering-fetch.ts): give the SDK `DISCOVERY_BASE_URL` as its baseURL.
   */
  readonly baseURL?: string;
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
  /**
   * Send everything through this OHTTP relay (RFC 9458): the relay learns who, never
   * what; the node learns what, never who. The relay's key configuration must be the
   * node's attested E2E key, or nothing is sent.
   */
  readonly relayUrl?: string;
  /**
   * Trust only measurements published in this release log (src/transparency), proven by
   * inclusion under a checkpoint consistent with the last one seen. Default: the release
   * log is the policy even when this is absent — $CLOISTER_RELEASE_LOG(+_KEY), else
   * Cloister's own (./release-log-default.ts); only a `policy` that pins measurements or a
   * Sigstore release stands in for it. Simulated nodes accepted with allowSimulated skip
   * the shipped default only (their measurements prove nothing); a named log always applies.
   */
  readonly releaseLog?: ReleaseLogOptions;
  /** Where the default (or $CLOISTER_RELEASE_LOG) log's last checkpoint is kept; default memory. A named `releaseLog` carries its own `state`. */
  readonly releaseLogState?: CheckpointState;
  /** Re-attest after this long (default 15 minutes). */
  readonly maxAttestationAgeMs?: number;
  /** Hold a stream back until its signature is checked (default false: events flow, the stream errors at the end on a bad signature). */
  readonly verifyStreamBeforeRelease?: boolean;
  /** Extra headers for the attestation and signature requests (never a credential under E2E: Authorization is dropped). */
  readonly headers?: HeadersInit;
  /**
   * How a refusal (a ClientError) reaches the caller: "response" (default) answers with a
   * synthetic non-retryable 403 carrying our code (what every SDK surfaces without retrying,
   * see ./failure.ts; `clientErrorOf(res)` gives the error back); "throw" rejects with it.
   */
  readonly onFailure?: "response" | "throw";
  readonly now?: () => number;
  /** Attestation options (src/client/attestation.ts): unchecked items accepted by name, TOFU pin store, warning sink. */
  readonly attestation?: Pick<AttestOptions, "acceptUnchecked" | "pins" | "onWarning">;
  /** Told the market receipt a paid node sent (sealed trailer, or the plain X-Cloister-Market-Receipt header), before the body ends. */
  readonly onMarketReceipt?: (receipt: unknown) => void;
}

export interface VerifiedFetch {
  (input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** Attests now (or returns the fresh pin); `force` re-attests regardless of age. */
  attest(force?: boolean): Promise<PinnedNode>;
  /** The pinned node, null before the first successful attestation. */
  readonly pinned: PinnedNode | null;
}

export function createVerifiedFetch(opts: VerifiedFetchOptions): VerifiedFetch {
  if (opts.baseURL === undefined) return createDiscoveringFetch(opts, pinnedFetch);
  if (opts.chain || opts.directory || opts.nodeSource) throw new ClientError(ClientCode.INVALID_OPTIONS, "give either baseURL or a discovery source (chain, directory, nodeSource), not both");
  return pinnedFetch({ ...opts, baseURL: opts.baseURL });
}

/** The fixed-node verified fetch: one attested, pinned node at `baseURL`. */
function pinnedFetch(opts: VerifiedFetchOptions & { readonly baseURL: string }): VerifiedFetch {
  const base = nodeBase(opts.baseURL);
  const network = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const relay = opts.relayUrl ? createOhttpTransport({ relayUrl: opts.relayUrl, fetch: network }) : null;
  const raw = relay ? relay.fetch : network;
  const e2e = opts.e2e ?? true;
  // Every request we send: redirects are answered, never followed (a 302 would turn a
  // sealed POST into a GET to wherever the proxy points, a 307 resend it there).
  const underlying: typeof fetch = async (input, init) => {
    const res = await raw(input, { ...init, redirect: "manual" });
    if (res.type === "opaqueredirect" || (res.status >= 300 && res.status < 400)) {
      await res.body?.cancel().catch(() => {});
      throw new ClientError(ClientCode.REDIRECT_REFUSED, `the node answered with a redirect (HTTP ${res.status}); a verified request is never redirected`, { details: { status: res.status } });
    }
    return res;
  };
  // Under E2E no credential leaves in the clear, not even on the attestation request.
  const extraHeaders = (): Headers => {
    const h = new Headers(opts.headers);
    if (e2e) h.delete("authorization");
    return h;
  };
  const maxAge = opts.maxAttestationAgeMs ?? 15 * 60_000;
  const now = opts.now ?? Date.now;
  const baseVerifier = opts.verifyReport ?? defaultReportVerifier;
  const resolved = resolveReleaseLog({ ...(opts.releaseLog ? { releaseLog: opts.releaseLog } : {}), policyPins: policyPins(opts.policy), fetch: network, ...(opts.releaseLogState ? { state: opts.releaseLogState } : {}) });
  const releaseVerifier = resolved ? withReleaseLog(baseVerifier, resolved.log, { skipSimulated: resolved.source === "default" }) : baseVerifier;
  let pinned: PinnedNode | null = null;
  let inflight: Promise<PinnedNode> | null = null;

  const attest = async (force = false): Promise<PinnedNode> => {
    if (!force && pinned && now() - pinned.verifiedAt < maxAge) return pinned;
    inflight ??= attestNode({
      baseURL: opts.baseURL,
      fetch: underlying,
      verifyReport: releaseVerifier,
      policy: opts.policy,
      allowSimulated: opts.allowSimulated ?? false,
      signingAlgo: opts.signingAlgo ?? "ecdsa",
      headers: extraHeaders(),
      ...opts.attestation,
      now,
    })
      .then(async (p) => {
        if (relay) await checkRelayKey(relay, p);
        return (pinned = p);
      })
      .finally(() => (inflight = null));
    return inflight;
  };

  // Plain mode only: a sealed exchange's signature travels only in its sealed trailer.
  const fetchSignature = (auth: string | null, algo: SigningAlgo) => async (requestId: string): Promise<unknown> => {
    const headers = extraHeaders();
    if (auth) headers.set("authorization", auth);
    const res = await underlying(apiURL(opts.baseURL, `signature/${encodeURIComponent(requestId)}?signing_algo=${algo}`), { headers });
    if (!res.ok) throw new ClientError(ClientCode.SIGNATURE_MISSING, `no signature for ${requestId} (HTTP ${res.status})`);
    return signatureFromHeader(await res.text());
  };

  const publicRead = async (req: Request, which: RouteKind): Promise<Response> => {
    const headers = new Headers(req.headers);
    if (e2e) headers.delete("authorization");
    const res = await underlying(req.url, { method: "GET", headers, signal: req.signal });
    if (!res.ok) return res;
    const text = await res.text();
    checkPublicAnswer(which, text);
    const out = new Headers(res.headers);
    out.delete("content-length");
    out.delete("content-encoding");
    return new Response(text, { status: res.status, statusText: res.statusText, headers: out });
  };

  const send = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const decision = classifyRequest(base, req.method, new URL(req.url));
    if (decision.kind === "refused") throw new ClientError(ClientCode.ROUTE_REFUSED, `refused before sending: ${decision.reason}`);
    if (decision.kind === "public") return publicRead(req, decision.which);
    const route = decision.route;

    const body = new Uint8Array(await req.arrayBuffer());
    const { model, stream } = routingMeta(body);
    const requestSha256 = toHex(sha256(body));
    let node = await attest();
    const auth = req.headers.get("authorization");
    // A market spend permit (src/market/wire.ts) goes inside the envelope too, never beside it.
    const permit = req.headers.get("x-cloister-permit");
    // A body that is not JSON (a Privacy Pass token request) keeps its type, bound into the aad.
    const innerType = e2e ? innerRequestType(req.headers.get("content-type")) : undefined;
    if (innerType === null) throw new ClientError(ClientCode.ROUTE_REFUSED, "refused before sending: a sealed body's content type must be visible ASCII, at most 127 characters");

    for (let attempt = 0; ; attempt++) {
      const headers = new Headers(req.headers);
      headers.delete("content-length");
      // Under E2E the API key goes inside the envelope (X-Cloister-E2E-Auth), never in the clear.
      if (e2e) headers.delete("authorization");
      if (e2e) headers.delete("x-cloister-permit");
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
        sealed = await sealRequest(node.e2ePublicKey, body, requestAad({ method: "POST", route, model, stream, keyId: node.e2eKeyId, time, ...(innerType !== undefined ? { contentType: innerType } : {}) }), auth ? utf8.encode(auth) : undefined, permit ? utf8.encode(permit) : undefined);
        wireBody = sealed.ciphertext;
        headers.set("content-type", E2E_CONTENT_TYPE);
        headers.set(E2EHeader.version, E2E_VERSION);
        headers.set(E2EHeader.enc, toBase64Url(sealed.enc));
        headers.set(E2EHeader.keyId, node.e2eKeyId);
        headers.set(E2EHeader.model, model);
        headers.set(E2EHeader.stream, String(stream));
        headers.set(E2EHeader.time, String(time));
        if (innerType !== undefined) headers.set(E2EHeader.contentType, innerType);
        if (sealed.credential) headers.set(E2EHeader.auth, toBase64Url(sealed.credential));
        if (sealed.permit) headers.set(E2EHeader.permit, toBase64Url(sealed.permit));
      }
      const res = await underlying(req.url, { method: "POST", headers, body: wireBody.slice(), signal: req.signal });
      const attested = node;
      const check = {
        pinned: attested,
        requestSha256,
        ...(clientNonce ? { clientNonce } : {}),
        stream,
        verifyStreamBeforeRelease: opts.verifyStreamBeforeRelease ?? false,
        fetchSignature: sealed ? sealedSignatureMissing : fetchSignature(auth, attested.signingAlgo),
        ...(opts.onMarketReceipt ? { onMarketReceipt: opts.onMarketReceipt } : {}),
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

  const verified = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    try {
      return await send(input, init);
    } catch (err) {
      // Network errors and aborts stay what they are (SDKs may retry those); refusals are final.
      if (!(err instanceof ClientError) || opts.onFailure === "throw") throw err;
      return failureResponse(err);
    }
  };

  // Object.assign would copy the getter's value once; define it so `pinned` stays live.
  return Object.defineProperties(verified, {
    attest: { value: attest, enumerable: true },
    pinned: { get: () => pinned, enumerable: true },
  }) as VerifiedFetch;
}

/** The sealed trailer had no signature: never fall back to GET /v1/signature (its hashes must not cross in the clear). */
async function sealedSignatureMissing(requestId: string): Promise<unknown> {
  throw new ClientError(ClientCode.SIGNATURE_MISSING, `the sealed answer ${requestId} carries no signature in its sealed trailer`);
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
