/** Serves the broker app on host:port with @hono/node-server; close() ends it. */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import type { Hono } from "hono";

export interface RunningBroker {
  readonly url: string;
  close(): Promise<void>;
}

export async function serveBroker(app: Hono, host: string, port: number): Promise<RunningBroker> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s as Server)) as Server;
    s.once("error", reject);
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
