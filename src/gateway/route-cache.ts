/**
 * The node's router: hono's SmartRouter, whose trie answer is remembered for request
 * paths that capture no parameter.
 *
 * hono's RegExpRouter (its fast one, with a cache of its own for static paths) refuses
 * the node's routes: it cannot put a fixed segment beside a parameter, and
 * `/v1/agents/runs` sits beside `/v1/agents/:name/…`. So SmartRouter settles on the
 * TrieRouter, which walks the trie and builds its answer afresh on every request: ~3 KB
 * and, in bench/chain.bench.ts, ~20 µs of the node's CPU per completion. Every completion
 * goes to one of a handful of fixed paths, and a path that captures no parameter gets
 * the same answer every time (routes are all added before the first request: hono
 * refuses a route added later), so that answer is kept. Paths with parameters are
 * matched afresh (their answer holds their values). The cache is bounded: a client
 * sending many distinct unknown paths only empties it.
 */
import type { Result, Router } from "hono/router";
import { RegExpRouter } from "hono/router/reg-exp-router";
import { SmartRouter } from "hono/router/smart-router";
import { TrieRouter } from "hono/router/trie-router";

/** Paths remembered at most; past it the cache starts again (unknown paths should not evict for long). */
export const ROUTE_CACHE_SIZE = 256;

/** True when no handler of the answer captured a parameter (a trie answer: `[[handler, params][]]`). */
function paramless<T>(r: Result<T>): boolean {
  if (r.length !== 1) return false;
  for (const [, params] of r[0]) {
    for (const _ in params) return false;
  }
  return true;
}

export class CachedRouter<T> implements Router<T> {
  readonly name: string;
  private readonly cache = new Map<string, Result<T>>();

  constructor(
    private readonly inner: Router<T>,
    private readonly size = ROUTE_CACHE_SIZE,
  ) {
    this.name = `CachedRouter(${inner.name})`;
  }

  add(method: string, path: string, handler: T): void {
    this.cache.clear();
    this.inner.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    const key = `${method} ${path}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const r = this.inner.match(method, path);
    if (paramless(r)) {
      if (this.cache.size >= this.size) this.cache.clear();
      this.cache.set(key, r);
    }
    return r;
  }
}

/** hono's default router (RegExpRouter, else TrieRouter), with the trie's answers cached. */
export function nodeRouter<T>(): Router<T> {
  return new SmartRouter<T>({ routers: [new RegExpRouter<T>(), new CachedRouter<T>(new TrieRouter<T>())] });
}
