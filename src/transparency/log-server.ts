/**
 * Serves a static log folder over HTTP (read-only, GET/HEAD only, no directory listing,
 * no path escapes). Any web server does the same job; this one is for `cloister log
 * serve` and tests. Checkpoints are served uncached, tiles immutably (full tiles never
 * change; a partial tile's path names its width).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { readFile } from "node:fs/promises";
import { resolve, sep } from "node:path";

export interface RunningLogServer {
  readonly url: string;
  close(): Promise<void>;
}

const SAFE = /^\/(checkpoint|tile\/(entries|\d+)\/(x\d{3}\/)*\d{3}(\.p\/\d{1,3})?)$/;

export async function serveLogDir(dir: string, opts: { host?: string; port?: number } = {}): Promise<RunningLogServer> {
  const root = resolve(dir);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://log").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (!SAFE.test(path)) {
      res.writeHead(404).end();
      return;
    }
    const file = resolve(root, `.${path}`);
    if (!file.startsWith(root + sep)) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) => {
        const cache = path === "/checkpoint" ? "no-store" : "public, max-age=31536000, immutable";
        res.writeHead(200, { "content-type": path === "/checkpoint" ? "text/plain; charset=utf-8" : "application/octet-stream", "cache-control": cache, "content-length": body.length });
        res.end(req.method === "HEAD" ? undefined : body);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => ok());
  });
  const a = server.address() as AddressInfo;
  const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
  return {
    url: `http://${host}:${a.port}/`,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
