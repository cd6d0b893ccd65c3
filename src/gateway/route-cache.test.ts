import type { Router } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";
import { describe, expect, it } from "vitest";
import { Hub } from "../agents/hub/hub.js";
import { openHubStore } from "../agents/hub/store.js";
import { openSqliteStore } from "../store/sqlite.js";
import { createGateway } from "./app.js";
import { CachedRouter, ROUTE_CACHE_SIZE } from "./route-cache.js";
import { echoTee, wordsBackend } from "./test-fakes.js";

/** The node's app as `cloister up` builds it (agent routes included: they are what sends hono to its trie). */
function nodeApp(): ReturnType<typeof createGateway> {
  return createGateway({ backend: wordsBackend(["a"]), tee: echoTee, store: openSqliteStore({ path: ":memory:" }), authRequired: false, consoleDir: null, agents: { hub: new Hub(openHubStore()) } });
}

const PATHS: ReadonlyArray<readonly [string, string]> = [
  ["POST", "/v1/chat/completions"],
  ["POST", "/v1/completions"],
  ["POST", "/v1/embeddings"],
  ["POST", "/v1/responses"],
  ["GET", "/v1/chat/completions"],
  ["GET", "/health"],
  ["GET", "/v1/models"],
  ["GET", "/v1/models/org/model-7b"],
  ["GET", "/v1/attestation/report"],
  ["POST", "/v1/agents/runs"],
  ["GET", "/v1/agents/runs"],
  ["GET", "/v1/agents/summarizer"],
  ["POST", "/v1/agents/summarizer/versions/1.0.0/yank"],
  ["GET", "/v1/receipts/chatcmpl-1"],
  ["GET", "/v1/signature/chatcmpl-1"],
  ["POST", "/ohttp"],
  ["GET", "/nope"],
  ["OPTIONS", "/v1/chat/completions"],
];

/** A router's answer with handlers as their index in the app's route list, comparable across routers. */
function shape(router: Router<unknown>, handlers: readonly unknown[], method: string, path: string): unknown {
  const r = router.match(method, path);
  return [r[0].map(([h, params]) => [handlers.indexOf(h), params]), r[1] ?? null];
}

describe("the node's router", () => {
  it("answers exactly as hono's trie does for every route of the node, the first time and from its cache", () => {
    const routes = nodeApp().routes;
    const trie = new TrieRouter<unknown>();
    const cached = new CachedRouter<unknown>(new TrieRouter<unknown>());
    const handlers = routes.map((r) => r.handler);
    for (const r of routes) {
      trie.add(r.method, r.path, r.handler);
      cached.add(r.method, r.path, r.handler);
    }
    for (const [method, path] of PATHS) {
      const want = shape(trie, handlers, method, path);
      expect(shape(cached, handlers, method, path), `${method} ${path}`).toEqual(want);
      expect(shape(cached, handlers, method, path), `${method} ${path}, cached`).toEqual(want);
    }
    // A completion route matches its whole chain (scope, E2E, the completion middleware, the handler).
    expect((shape(cached, handlers, "POST", "/v1/chat/completions") as [unknown[]])[0].length).toBeGreaterThan(5);
  });

  it("matches paths with parameters afresh, so one request's values never reach another", () => {
    const cached = new CachedRouter<string>(new TrieRouter<string>());
    cached.add("GET", "/v1/models/:id{.+}", "model");
    const a = cached.match("GET", "/v1/models/a");
    const b = cached.match("GET", "/v1/models/b/c");
    expect(a[0][0]?.[1]).toEqual({ id: "a" });
    expect(b[0][0]?.[1]).toEqual({ id: "b/c" });
    expect(cached.match("GET", "/v1/models/a")[0][0]?.[1]).toEqual({ id: "a" });
  });

  it("stays bounded when a client sends many distinct unknown paths, and still answers them right", () => {
    const inner = new TrieRouter<string>();
    const cached = new CachedRouter<string>(inner);
    cached.add("POST", "/v1/chat/completions", "chat");
    let size = 0;
    const spy = cached as unknown as { cache: Map<string, unknown> };
    for (let i = 0; i < 10 * ROUTE_CACHE_SIZE; i++) {
      expect(cached.match("GET", `/junk/${i}`)[0]).toEqual([]);
      size = Math.max(size, spy.cache.size);
    }
    expect(size).toBeLessThanOrEqual(ROUTE_CACHE_SIZE);
    expect(cached.match("POST", "/v1/chat/completions")[0].map(([h]) => h)).toEqual(["chat"]);
  });

  it("is the one the node's app settles on (hono's RegExpRouter still refuses the node's routes)", async () => {
    const app = nodeApp();
    const res = await app.request("/health");
    expect(res.status).toBe(200);
    // If a hono upgrade lets its RegExpRouter take these routes, this fails: the cache is then unneeded.
    expect(app.router.name).toBe("SmartRouter + CachedRouter(TrieRouter)");
  });
});
