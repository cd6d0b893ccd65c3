/**
 * The node's /console route and the built bundle: files served by exact name with the
 * strict CSP, nothing else reachable, a clear 404 when the console is not built, and a
 * bundle with no Node built-in in it (the browser runs it as is).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { createGateway } from "../../src/gateway/app.js";
import { CONSOLE_CSP } from "../../src/gateway/handlers/console.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { fakeBackend } from "../e2e/client-fixtures.js";
import { CONSOLE_DIR, ensureConsoleBuilt } from "../e2e/console-fixtures.js";

const gateway = (consoleDir: string | null): ReturnType<typeof createGateway> =>
  createGateway({ backend: fakeBackend(), tee: createSimulatorProvider({ gpu: false }), store: openSqliteStore({ path: ":memory:" }), authRequired: false, consoleDir });

describe("/console on the node", () => {
  const dir = mkdtempSync(join(tmpdir(), "console-route-"));
  mkdirSync(join(dir, "assets"));
  writeFileSync(join(dir, "index.html"), "<!doctype html><title>x</title>");
  writeFileSync(join(dir, "assets", "app-abc.js"), "export {};");
  writeFileSync(join(dir, "secret.txt"), "not served: unknown type");

  it("serves index.html and hashed assets with the CSP, caching only the assets", async () => {
    const app = gateway(dir);
    const index = await app.request("/console/");
    expect(index.status).toBe(200);
    expect(index.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(index.headers.get("x-content-type-options")).toBe("nosniff");
    const js = await app.request("/console/assets/app-abc.js");
    expect(js.headers.get("content-type")).toContain("text/javascript");
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect((await app.request("/console")).status).toBe(301);
  });

  it("reaches nothing outside the built files", async () => {
    const app = gateway(dir);
    for (const p of ["/console/secret.txt", "/console/../package.json", "/console/%2e%2e/%2e%2e/package.json", "/console/assets/nope.js"]) {
      expect((await app.request(p)).status, p).toBe(404);
    }
  });

  it("answers a clear 404 when the console is not built", async () => {
    const res = await gateway(null).request("/console/");
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("not built");
  });
});

describe("the built console bundle", () => {
  it("has one script, loaded from a file, and no Node built-in inside", () => {
    ensureConsoleBuilt();
    const html = readFileSync(join(CONSOLE_DIR, "index.html"), "utf8");
    expect(html.match(/<script\b[^>]*>/g)).toEqual([expect.stringMatching(/type="module" crossorigin src="\.\/assets\/index-[\w-]+\.js"/)]);
    for (const f of readdirSync(join(CONSOLE_DIR, "assets")).filter((n) => n.endsWith(".js"))) {
      const js = readFileSync(join(CONSOLE_DIR, "assets", f), "utf8");
      expect(js, f).not.toMatch(/__vite-browser-external|from\s*"node:|import\("node:|\brequire\(/);
    }
  });
});
