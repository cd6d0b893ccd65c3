/**
 * Per-address rate limit for unauthenticated endpoints (the attestation report: each one
 * costs a quote from the TEE and a signature). A token bucket per client address:
 * `burst` requests at once, refilled at `perSecond`; over it, 429 with Retry-After and an
 * OpenAI-shaped body (`rate_limit_exceeded`).
 *
 * The address is the TCP peer's, never X-Forwarded-For (anyone can write that header:
 * docs/protocol.md assumes a hostile proxy). Behind a proxy every client shares the
 * proxy's address and so one bucket; such deployments should rate-limit at the proxy too.
 * IPv6 addresses are bucketed by /64, the smallest prefix a host usually controls.
 * The table holds at most `maxAddresses` entries (the least recently seen go first), so
 * a flood of addresses costs bounded memory.
 */
import { isIPv6 } from "node:net";
import type { MiddlewareHandler } from "hono";
import { GatewayError } from "../../errors.js";
import type { GatewayEnv } from "../context.js";
import { errorBody, GatewayCode } from "../errors.js";

export interface RateLimitOptions {
  /** Requests allowed at once per address (default 30). */
  readonly burst?: number;
  /** Sustained requests per second per address (default 5). */
  readonly perSecond?: number;
  /** Addresses remembered at most (default 10 000). */
  readonly maxAddresses?: number;
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function rateLimitByAddress(opts: RateLimitOptions = {}): MiddlewareHandler<GatewayEnv> {
  const burst = opts.burst ?? 30;
  const perSecond = opts.perSecond ?? 5;
  const maxAddresses = opts.maxAddresses ?? 10_000;
  const now = opts.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  return async (c, next) => {
    const key = addressKey(peerAddress(c.env));
    const t = now();
    const b = buckets.get(key) ?? { tokens: burst, at: t };
    buckets.delete(key); // re-inserted last: Map order is recency order
    b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * perSecond);
    b.at = t;
    buckets.set(key, b);
    if (buckets.size > maxAddresses) {
      const oldest = buckets.keys().next().value;
      if (oldest !== undefined) buckets.delete(oldest);
    }
    if (b.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
      const e = new GatewayError(429, GatewayCode.TOO_MANY_REQUESTS, `too many requests from this address; retry in ${retryAfter} s`);
      return new Response(JSON.stringify({ error: { ...errorBody(e).error, code: "rate_limit_exceeded" } }), {
        status: 429,
        headers: { "content-type": "application/json", "retry-after": String(retryAfter) },
      });
    }
    b.tokens -= 1;
    await next();
  };
}

/** The TCP peer from @hono/node-server's bindings; "unknown" under app.request() in tests. */
function peerAddress(env: unknown): string {
  const incoming = typeof env === "object" && env !== null ? (env as { incoming?: { socket?: { remoteAddress?: unknown } } }).incoming : undefined;
  const a = incoming?.socket?.remoteAddress;
  return typeof a === "string" ? a : "unknown";
}

export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(":")}::/64`;
}

function expandIPv6(a: string): string[] {
  const [head = "", tail = ""] = a.split("::");
  const h = head ? head.split(":") : [];
  const t = a.includes("::") ? (tail ? tail.split(":") : []) : [];
  const fill = a.includes("::") ? Array(Math.max(0, 8 - h.length - t.length)).fill("0") : [];
  return [...h, ...fill, ...t].map((p) => p.toLowerCase().replace(/^0+(?=.)/, ""));
}
