/**
 * The verifying fetch without a fixed node: `createVerifiedFetch({ chain | directory |
 * nodeSource, model })`. It lists the nodes registered for the model (a HINT: the list
 * may be stale, wrong or hostile), ranks them by measured round trip and distance
 * (./node-ranking.ts), attests each itself with the same verifier as the baseURL mode
 * before sending it anything, and requires the attested signing key to be the enclave
 * address the registry lists at that endpoint (else ENCLAVE_MISMATCH: the listing pointed
 * at another node). Every exchange is then exactly the baseURL mode's (sealed, signed,
 * pinned): one per-node verified fetch does it.
 *
 * Failover (docs/protocol.md "Node discovery", "Failover"): a node is skipped and the
 * request sent to the next when, before any byte of the answer reached the caller,
 *   - it could not be reached or the connection broke (cooldown `cooldownMs`),
 *   - it answered 5xx or 429 (cooldown = its Retry-After when given, else `cooldownMs`),
 *   - its attestation or the answer's verification failed, or it attested another key
 *     (refused for `refusedCooldownMs`).
 * The first chunk of every answer is read before the answer is handed over, so a node
 * that dies before its first byte is also failed over. Once bytes were released a
 * failure cannot be retried transparently (the caller has seen part of an answer): the
 * stream errors, the node is put in cooldown, and the NEXT request goes to the next node.
 * A request body is sent again to the next node only in the cases above, so a node that
 * failed after doing the work may have done it (and metered it) for nothing.
 */
import { ClientError } from "../errors.js";
import type { LatLon } from "../ledger/discovery.js";
import { NODES_DEFAULT_LIMIT, type WireNode } from "../ledger/nodes-wire.js";
import type { PinnedNode } from "./attestation.js";
import { ClientCode } from "./codes.js";
import { failureResponse } from "./failure.js";
import { chainNodeSource, directoryNodeSource, type DiscoveryChain, type NodeSource } from "./node-source.js";
import { rankByRoundTrip, type RankedNode } from "./node-ranking.js";
import { nodeBase } from "./routes.js";
import type { VerifiedFetch, VerifiedFetchOptions } from "./verified-fetch.js";

/** The base URL a caller gives its SDK in discovery mode; requests under it go to the chosen node. */
export const DISCOVERY_BASE_URL = "https://nodes.cloister.invalid/v1";

export interface DiscoveryOptions {
  /** Re-list (and re-probe) after this long (default 60 s). */
  readonly refreshMs?: number;
  /** How many listed nodes to ask for (default 20). */
  readonly limit?: number;
  /** How many of the nearest to probe for round trip (default 5). */
  readonly probe?: number;
  readonly probeTimeoutMs?: number;
  /** Round trips within the same bucket count as equal, then distance decides (default 25 ms). */
  readonly rttBucketMs?: number;
  /** Nodes tried per request at most (default 3). */
  readonly maxNodesPerRequest?: number;
  /** How long a node that failed (connection, 5xx, 429/503 without Retry-After) is skipped (default 30 s). */
  readonly cooldownMs?: number;
  /** How long a node whose attestation or answer failed verification is skipped (default 10 min). */
  readonly refusedCooldownMs?: number;
  /** Accept http:// endpoints that are not loopback (never for real use: metadata would travel in the clear). */
  readonly allowHttp?: boolean;
  /** The chain's first block to read (the market's deploy block), chain mode only. */
  readonly fromBlock?: bigint;
  /** Told each time a node is skipped (for logs and tests; never carries content). */
  readonly onFailover?: (e: FailoverEvent) => void;
}

export interface FailoverEvent {
  readonly enclave: string;
  readonly baseURL: string;
  readonly reason: "unreachable" | "saturated" | "server-error" | "refused" | "stream-broken";
  readonly code?: string;
  readonly status?: number;
}

export interface DiscoverySourceOptions {
  /** Read the registry from the chain. */
  readonly chain?: DiscoveryChain;
  /** Ask this node's GET /v1/nodes (its OpenAI base URL, ".../v1"). */
  readonly directory?: string;
  /** Any other list of nodes. */
  readonly nodeSource?: NodeSource;
  /** The model the requests are for (name as the API serves it). */
  readonly model?: string;
  /** Where the caller is, for distance ranking. */
  readonly near?: LatLon;
  readonly discovery?: DiscoveryOptions;
}

export interface DiscoveringFetch extends VerifiedFetch {
  /** What to give an SDK as its baseURL. */
  readonly baseURL: string;
  /** The node the last answer came from. */
  readonly current: RankedNode | null;
  /** The ranked list as last refreshed. */
  nodes(): readonly RankedNode[];
  refresh(): Promise<void>;
}

type PinnedFactory = (o: VerifiedFetchOptions & { baseURL: string }) => VerifiedFetch;

interface Cooling {
  readonly until: number;
  readonly refused: boolean;
}

export function createDiscoveringFetch(opts: VerifiedFetchOptions, pinnedFetch: PinnedFactory): DiscoveringFetch {
  const d = opts.discovery ?? {};
  const model = opts.model;
  if (!model) throw new ClientError(ClientCode.INVALID_OPTIONS, "discovery needs the model the requests are for (`model`)");
  const sources = [opts.chain, opts.directory, opts.nodeSource].filter((x) => x !== undefined);
  if (sources.length !== 1) throw new ClientError(ClientCode.INVALID_OPTIONS, "give exactly one of baseURL, chain, directory or nodeSource");
  // The registry lists an EVM address: only an ECDSA-attested key can be compared with it.
  if ((opts.signingAlgo ?? "ecdsa") !== "ecdsa") throw new ClientError(ClientCode.INVALID_OPTIONS, "discovery needs signingAlgo ecdsa (the registry lists the enclave's EVM address)");
  if (opts.relayUrl) throw new ClientError(ClientCode.INVALID_OPTIONS, "an OHTTP relay serves one node: give its baseURL, not discovery");
  const network = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const source: NodeSource =
    opts.nodeSource ?? (opts.chain ? chainNodeSource(opts.chain, d.fromBlock !== undefined ? { fromBlock: d.fromBlock } : {}) : directoryNodeSource(opts.directory!, { fetch: network }));
  const virtual = nodeBase(DISCOVERY_BASE_URL);
  const now = opts.now ?? Date.now;
  const refreshMs = d.refreshMs ?? 60_000;
  const cooldownMs = d.cooldownMs ?? 30_000;
  const refusedMs = d.refusedCooldownMs ?? 10 * 60_000;
  const maxTries = Math.max(1, d.maxNodesPerRequest ?? 3);

  let ranked: RankedNode[] = [];
  let listedAt = Number.NEGATIVE_INFINITY;
  let listing: Promise<void> | null = null;
  let current: RankedNode | null = null;
  const perNode = new Map<string, VerifiedFetch>();
  const cooling = new Map<string, Cooling>();

  const refresh = async (force = false): Promise<void> => {
    if (!force && ranked.length > 0 && now() - listedAt < refreshMs) return;
    listing ??= (async () => {
      try {
        const listed: readonly WireNode[] = await source.list({ model, ...(opts.near ? { near: opts.near } : {}), limit: d.limit ?? NODES_DEFAULT_LIMIT });
        ranked = await rankByRoundTrip(listed, {
          fetch: network,
          ...(d.probe !== undefined ? { probe: d.probe } : {}),
          ...(d.probeTimeoutMs !== undefined ? { timeoutMs: d.probeTimeoutMs } : {}),
          ...(d.rttBucketMs !== undefined ? { rttBucketMs: d.rttBucketMs } : {}),
          ...(d.allowHttp ? { allowHttp: true } : {}),
        });
        listedAt = now();
      } catch (err) {
        // A stale list is still a list to attest against; no list at all is a failure.
        if (ranked.length === 0) throw err;
      }
    })().finally(() => (listing = null));
    return listing;
  };

  const fetchFor = (r: RankedNode): VerifiedFetch => {
    const key = `${r.node.enclave} ${r.baseURL}`;
    let f = perNode.get(key);
    if (!f) {
      f = pinnedFetch({ ...opts, baseURL: r.baseURL, onFailure: "throw", fetch: network });
      perNode.set(key, f);
    }
    return f;
  };

  const cool = (r: RankedNode, ms: number, refused: boolean, e: Omit<FailoverEvent, "enclave" | "baseURL">): void => {
    cooling.set(r.node.enclave, { until: now() + ms, refused });
    if (current === r) current = null;
    d.onFailover?.({ enclave: r.node.enclave, baseURL: r.baseURL, ...e });
  };

  /** Nodes to try, best first: those not cooling down; if none, the transiently failed ones whose cooldown ends first. */
  const order = (): RankedNode[] => {
    const t = now();
    const ready = ranked.filter((r) => (cooling.get(r.node.enclave)?.until ?? 0) <= t);
    if (ready.length > 0) return ready;
    return ranked.filter((r) => !cooling.get(r.node.enclave)?.refused).sort((a, b) => cooling.get(a.node.enclave)!.until - cooling.get(b.node.enclave)!.until);
  };

  const attested = async (r: RankedNode): Promise<PinnedNode> => {
    const p = await fetchFor(r).attest();
    if (p.signingAddress !== r.node.enclave) throw mismatch(r, p);
    return p;
  };

  const targetOf = (r: RankedNode, url: URL): string => {
    if (url.origin === virtual.origin) {
      if (url.pathname.startsWith(`${virtual.path}/`)) return `${r.baseURL}${url.pathname.slice(virtual.path.length)}${url.search}`;
      if (url.pathname === virtual.healthPath && !url.search) return `${new URL(r.baseURL).origin}${nodeBase(r.baseURL).healthPath}`;
    }
    throw new ClientError(ClientCode.ROUTE_REFUSED, `refused before sending: in discovery mode requests go under ${DISCOVERY_BASE_URL}, not ${url.origin}${url.pathname}`);
  };

  const send = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    targetOf({ baseURL: DISCOVERY_BASE_URL } as RankedNode, url); // refuse a foreign URL before listing anything
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : new Uint8Array(await req.arrayBuffer());
    await refresh();
    const tried: { enclave: string; reason: string; code?: string; status?: number }[] = [];
    let last: Response | null = null;
    for (const r of order()) {
      if (tried.length >= maxTries) break;
      const f = fetchFor(r);
      let res: Response;
      try {
        await attested(r);
        res = await f(targetOf(r, url), { method: req.method, headers: req.headers, ...(body ? { body: body.slice() } : {}), signal: req.signal });
      } catch (err) {
        if (req.signal.aborted) throw err;
        if (err instanceof ClientError && (err.code === ClientCode.ROUTE_REFUSED || err.code === ClientCode.INVALID_OPTIONS)) throw err;
        const refused = err instanceof ClientError && err.code !== ClientCode.ATTESTATION_UNAVAILABLE;
        const code = err instanceof ClientError ? err.code : undefined;
        cool(r, refused ? refusedMs : cooldownMs, refused, { reason: refused ? "refused" : "unreachable", ...(code ? { code } : {}) });
        tried.push({ enclave: r.node.enclave, reason: refused ? "refused" : "unreachable", ...(code ? { code } : {}) });
        continue;
      }
      // The exchange may have re-attested inside (key rotation): the key that answered must still be the listed one.
      if (f.pinned?.signingAddress !== r.node.enclave) {
        await res.body?.cancel().catch(() => {});
        cool(r, refusedMs, true, { reason: "refused", code: ClientCode.ENCLAVE_MISMATCH });
        tried.push({ enclave: r.node.enclave, reason: "refused", code: ClientCode.ENCLAVE_MISMATCH });
        continue;
      }
      if (res.status === 429 || res.status >= 500) {
        const saturated = res.status === 429 || res.status === 503;
        cool(r, retryAfterMs(res, now()) ?? cooldownMs, false, { reason: saturated ? "saturated" : "server-error", status: res.status });
        tried.push({ enclave: r.node.enclave, reason: saturated ? "saturated" : "server-error", status: res.status });
        await last?.body?.cancel().catch(() => {});
        last = res;
        continue;
      }
      const held = await holdFirstChunk(res, (err) => cool(r, cooldownMs, err instanceof ClientError, { reason: "stream-broken", ...(err instanceof ClientError ? { code: err.code } : {}) }));
      if (!held.ok) {
        const refused = held.error instanceof ClientError;
        cool(r, refused ? refusedMs : cooldownMs, refused, { reason: refused ? "refused" : "unreachable", ...(held.error instanceof ClientError ? { code: held.error.code } : {}) });
        tried.push({ enclave: r.node.enclave, reason: "broken before the first byte" });
        continue;
      }
      await last?.body?.cancel().catch(() => {});
      current = r;
      return held.response;
    }
    // Every node tried was busy or failing: the last busy answer says when to come back.
    if (last) return last;
    throw new ClientError(ClientCode.NO_NODE_AVAILABLE, tried.length ? `no listed node for ${model} could serve the request (${tried.length} tried)` : `no node is listed for ${model}`, { details: { tried } });
  };

  const verified = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    try {
      return await send(input, init);
    } catch (err) {
      if (!(err instanceof ClientError) || opts.onFailure === "throw") throw err;
      return failureResponse(err);
    }
  };

  const attest = async (force = false): Promise<PinnedNode> => {
    await refresh();
    const tried: { enclave: string; code?: string }[] = [];
    for (const r of order()) {
      try {
        const p = force ? await fetchFor(r).attest(true) : await attested(r);
        if (p.signingAddress !== r.node.enclave) throw mismatch(r, p);
        current = r;
        return p;
      } catch (err) {
        const code = err instanceof ClientError ? err.code : undefined;
        const refused = code !== undefined && code !== ClientCode.ATTESTATION_UNAVAILABLE;
        cool(r, refused ? refusedMs : cooldownMs, refused, { reason: refused ? "refused" : "unreachable", ...(code ? { code } : {}) });
        tried.push({ enclave: r.node.enclave, ...(code ? { code } : {}) });
      }
    }
    throw new ClientError(ClientCode.NO_NODE_AVAILABLE, `no listed node for ${model} attested`, { details: { tried } });
  };

  return Object.defineProperties(verified, {
    attest: { value: attest, enumerable: true },
    pinned: { get: () => (current ? (fetchFor(current).pinned ?? null) : null), enumerable: true },
    baseURL: { value: DISCOVERY_BASE_URL, enumerable: true },
    current: { get: () => current, enumerable: true },
    nodes: { value: () => ranked, enumerable: true },
    refresh: { value: () => refresh(true), enumerable: true },
  }) as DiscoveringFetch;
}

function mismatch(r: RankedNode, p: PinnedNode): ClientError {
  return new ClientError(ClientCode.ENCLAVE_MISMATCH, `the node at ${r.baseURL} attested ${p.signingAddress}, but the registry lists ${r.node.enclave} there`, {
    details: { listed: r.node.enclave, attested: p.signingAddress },
  });
}

/** Retry-After as ms from now (seconds or an HTTP date), capped at 10 minutes; null when absent or unreadable. */
export function retryAfterMs(res: Response, nowMs: number): number | null {
  const v = res.headers.get("retry-after")?.trim();
  if (!v) return null;
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v) - nowMs;
  if (!Number.isFinite(ms)) return null;
  return Math.min(Math.max(ms, 0), 10 * 60_000);
}

/**
 * Reads the first chunk before the caller gets the answer: a node that breaks before its
 * first byte can still be failed over. Later errors reach the caller (and `onError`).
 */
async function holdFirstChunk(res: Response, onError: (err: unknown) => void): Promise<{ ok: true; response: Response } | { ok: false; error: unknown }> {
  if (!res.body) return { ok: true, response: res };
  const reader = res.body.getReader();
  let first: ReadableStreamReadResult<Uint8Array>;
  try {
    first = await reader.read();
  } catch (error) {
    return { ok: false, error };
  }
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      if (first.done) c.close();
      else c.enqueue(first.value);
    },
    async pull(c) {
      try {
        const next = await reader.read();
        if (next.done) c.close();
        else c.enqueue(next.value);
      } catch (err) {
        onError(err);
        c.error(err);
      }
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { ok: true, response: new Response(stream, { status: res.status, statusText: res.statusText, headers: res.headers }) };
}
