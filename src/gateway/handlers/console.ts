/**
 * GET /console — the static console (console/, built by `npm run build` into
 * dist/console), served with a strict Content-Security-Policy: scripts and styles only from
 * this origin, no inline code, no frames, no forms posting anywhere. connect-src allows
 * https: (the console verifies any node the visitor names, from the visitor's browser)
 * and plain http only to loopback (a local node). The files are read once at start into
 * memory and served by exact name, so no request path ever reaches the file system.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Hono } from "hono";
import type { GatewayEnv } from "../context.js";
import { GatewayError } from "../../errors.js";
import { GatewayCode, errorResponse } from "../errors.js";

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' https: http://127.0.0.1:* http://localhost:*",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
};

/** Where `npm run build` puts the console, from src/gateway/handlers (tsx) or dist/gateway/handlers. */
export function defaultConsoleDir(): string | null {
  for (const rel of ["../../../dist/console", "../../console"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, "index.html"))) return dir;
  }
  return null;
}

interface Asset {
  readonly body: Uint8Array;
  readonly type: string;
}

function loadAssets(dir: string): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const walk = (sub: string): void => {
    for (const name of readdirSync(join(dir, sub))) {
      const rel = sub ? `${sub}/${name}` : name;
      if (statSync(join(dir, rel)).isDirectory()) walk(rel);
      else {
        const ext = name.slice(name.lastIndexOf("."));
        const type = TYPES[ext];
        if (type) out.set(rel, { body: new Uint8Array(readFileSync(join(dir, rel))), type });
      }
    }
  };
  walk("");
  return out;
}

export function mountConsole(app: Hono<GatewayEnv>, dir: string | null): void {
  const assets = dir ? loadAssets(dir) : new Map<string, Asset>();
  const headers = (type: string, immutable: boolean): Record<string, string> => ({
    "content-type": type,
    "content-security-policy": CONSOLE_CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
  });
  app.get("/console", (c) => c.redirect("/console/", 301));
  app.get("/console/*", (c) => {
    const rel = c.req.path.slice("/console/".length) || "index.html";
    const a = assets.get(rel);
    if (!a) {
      const why = assets.size === 0 ? "the console is not built on this node (npm run build)" : "no such console file";
      return errorResponse(new GatewayError(404, GatewayCode.NOT_FOUND, why));
    }
    // Vite names assets by content hash: cache them forever; index.html is revalidated.
    return c.body(a.body as Uint8Array<ArrayBuffer>, 200, headers(a.type, rel.startsWith("assets/")));
  });
}
