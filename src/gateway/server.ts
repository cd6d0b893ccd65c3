/**
 * Serves a gateway app over HTTP/1.1 with @hono/node-server, and shuts it down
 * gracefully: stop accepting, let requests (streams included) finish for up to
 * `drainMs`, then abort what is left through the shutdown signal and close sockets.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";
import { guardBodyRate, type BodyRateOptions } from "./body-rate.js";
import type { GatewayEnv } from "./context.js";

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Resolves once every connection is closed. */
  close(opts?: { drainMs?: number }): Promise<void>;
}

export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  /** Aborted when draining ends, so unfinished generations stop (wire it to GatewayDeps.shutdownSignal). */
  readonly abortInFlight?: AbortController;
  /** Most time to receive a whole request, headers and body (default 60 s); see below. */
  readonly bodyTimeoutMs?: number;
  /** Most time to receive the request headers (default 10 s). */
  readonly headersTimeoutMs?: number;
  /** Minimum body rate (./body-rate.ts); its defaults when omitted. */
  readonly bodyRate?: BodyRateOptions;
}

export async function startServer(app: Hono<GatewayEnv>, opts: ServeOptions): Promise<RunningServer> {
  const server = await new Promise<Server>((resolve, reject) => {
    // Node checks headersTimeout/requestTimeout only every connectionsCheckingInterval
    // (30 s by default), which would stretch a 10 s header deadline to 40 s.
    const serverOptions = { connectionsCheckingInterval: 1000 };
    const s = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port, serverOptions }, () => resolve(s as Server)) as Server;
    s.once("error", reject);
  });
  // Node's requestTimeout bounds only RECEIVING the request (headers + body), not the
  // response, so long streams are unaffected; it ends sockets whose body never completes
  // (slowloris), beside the app's own time limit that frees the request's slot.
  const bodyTimeoutMs = opts.bodyTimeoutMs ?? 60_000;
  server.requestTimeout = bodyTimeoutMs;
  server.headersTimeout = Math.min(opts.headersTimeoutMs ?? 10_000, bodyTimeoutMs);
  guardBodyRate(server, opts.bodyRate);
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${host}:${addr.port}`,
    port: addr.port,
    close({ drainMs = 10_000 } = {}) {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        const idle = setInterval(() => server.closeIdleConnections(), 100);
        idle.unref();
        const force = setTimeout(() => {
          opts.abortInFlight?.abort();
          // Give aborted streams a moment to write their final event, then cut.
          setTimeout(() => server.closeAllConnections(), 200).unref();
        }, drainMs);
        force.unref();
        server.once("close", () => (clearInterval(idle), clearTimeout(force)));
      });
      return closing;
    },
  };
}
