/**
 * A TCP proxy in front of a node that can be killed at any moment: `kill()` resets every
 * connection through it and stops listening, as a node whose machine died would look to
 * its clients (no graceful close, no final frame).
 */
import { createServer, connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface KillableProxy {
  readonly url: string;
  /** Destroys every connection now and refuses new ones. */
  kill(): void;
  close(): Promise<void>;
}

export async function startKillableProxy(target: string): Promise<KillableProxy> {
  const t = new URL(target);
  const sockets = new Set<Socket>();
  let dead = false;
  const server = createServer((down) => {
    if (dead) return void down.destroy();
    const up = connect({ host: t.hostname, port: Number(t.port) });
    for (const s of [down, up]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
    }
    down.pipe(up);
    up.pipe(down);
    down.on("close", () => up.destroy());
    up.on("close", () => down.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const kill = (): void => {
    dead = true;
    for (const s of sockets) s.resetAndDestroy();
    server.close();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    kill,
    close: async () => {
      if (!dead) kill();
    },
  };
}
