/**
 * Orders listed nodes for the discovering client: the registry's distance is only a first
 * guess, so the nearest few are probed (GET /health, unauthenticated, nothing of the
 * caller's) and ranked by measured round-trip time, in buckets of `rttBucketMs` (default
 * 25 ms: a difference below the noise of one probe says nothing, so within a bucket the
 * nearer node wins); those not probed follow by distance,
 * and those that did not answer the probe go last (still tried, in case only /health is
 * blocked). Endpoints that cannot be used safely are dropped here.
 */
import type { WireNode } from "../ledger/nodes-wire.js";
import { nodeBase } from "./routes.js";

export interface RankedNode {
  readonly node: WireNode;
  /** The node's OpenAI base URL (".../v1"). */
  readonly baseURL: string;
  /** Measured round trip of GET /health in ms; null when not probed or no answer. */
  readonly rttMs: number | null;
  readonly reachable: boolean | null;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * A registered endpoint as the OpenAI base URL: "https://host[:port][/prefix]" (the node's
 * root; "/v1" is appended unless it already ends in it). http only on loopback (a local
 * chain's nodes) unless `allowHttp`; queries, fragments and credentials are refused (null).
 */
export function endpointBaseURL(endpoint: string, allowHttp = false): string | null {
  let u: URL;
  try {
    u = new URL(endpoint);
  } catch {
    return null;
  }
  if (u.search || u.hash || u.username || u.password) return null;
  if (u.protocol !== "https:" && !(u.protocol === "http:" && (allowHttp || LOOPBACK.has(u.hostname)))) return null;
  const path = u.pathname.replace(/\/+$/, "");
  return `${u.origin}${path.endsWith("/v1") ? path : `${path}/v1`}`;
}

export interface ProbeOptions {
  readonly fetch: typeof fetch;
  /** How many of the nearest to probe (default 5). */
  readonly probe?: number;
  readonly timeoutMs?: number;
  /** Round trips in the same bucket count as equal (default 25 ms). */
  readonly rttBucketMs?: number;
  readonly allowHttp?: boolean;
  readonly clock?: () => number;
}

export async function rankByRoundTrip(nodes: readonly WireNode[], o: ProbeOptions): Promise<RankedNode[]> {
  const clock = o.clock ?? (() => performance.now());
  const usable: { node: WireNode; baseURL: string }[] = [];
  const seen = new Set<string>();
  for (const node of nodes) {
    const baseURL = endpointBaseURL(node.endpoint, o.allowHttp);
    // One entry per enclave: a listing that repeats a node must not make it count twice.
    if (!baseURL || seen.has(node.enclave)) continue;
    seen.add(node.enclave);
    usable.push({ node, baseURL });
  }
  const probeCount = Math.min(usable.length, o.probe ?? 5);
  const probed = await Promise.all(
    usable.slice(0, probeCount).map(async (u): Promise<RankedNode> => {
      const started = clock();
      try {
        const res = await o.fetch(`${new URL(u.baseURL).origin}${nodeBase(u.baseURL).healthPath}`, { redirect: "manual", signal: AbortSignal.timeout(o.timeoutMs ?? 2000) });
        await res.body?.cancel().catch(() => {});
        // Any HTTP answer measures the path; only a refused connection or a timeout means unreachable.
        return { ...u, rttMs: clock() - started, reachable: true };
      } catch {
        return { ...u, rttMs: null, reachable: false };
      }
    }),
  );
  const dist = (r: RankedNode): number => r.node.distanceKm ?? 0;
  const bucket = Math.max(1, o.rttBucketMs ?? 25);
  const b = (r: RankedNode): number => Math.floor(r.rttMs! / bucket);
  const up = probed.filter((r) => r.reachable).sort((x, y) => b(x) - b(y) || dist(x) - dist(y));
  const rest: RankedNode[] = usable.slice(probeCount).map((u) => ({ ...u, rttMs: null, reachable: null }));
  const down = probed.filter((r) => !r.reachable);
  return [...up, ...rest, ...down];
}
