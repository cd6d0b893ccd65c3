/**
 * `cloister relay --gateway URL [--host H] [--port P]`: an OHTTP relay in front of one
 * node. Run by someone other than the node's operator, it stops the node from learning
 * who sends what; it keeps and logs nothing about clients.
 */
import { Hono } from "hono";
import { parseArgs } from "node:util";
import { startServer } from "../../gateway/server.js";
import type { GatewayEnv } from "../../gateway/context.js";
import { ohttpRelayHandler } from "../../transparency/ohttp/relay.js";
import { EXIT, untilStopped, type CliIO } from "../io.js";

const USAGE = `usage: cloister relay --gateway URL [--host H] [--port P]

  --gateway URL   the node (OHTTP gateway) to forward to, e.g. http://127.0.0.1:8080
  --host H        listen address (default 127.0.0.1)
  --port P        listen port (default 8088)`;

export async function relayCommand(args: string[], io: CliIO): Promise<number> {
  let v: { gateway?: string; host?: string; port?: string; help?: boolean };
  try {
    v = parseArgs({ args, options: { gateway: { type: "string" }, host: { type: "string" }, port: { type: "string" }, help: { type: "boolean", short: "h" } } }).values;
  } catch (e) {
    io.err(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (v.help) {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (!v.gateway || !/^https?:\/\//.test(v.gateway)) {
    io.err(`relay needs --gateway http(s)://...\n\n${USAGE}`);
    return EXIT.usage;
  }
  const handler = ohttpRelayHandler({ gatewayUrl: v.gateway });
  const app = new Hono<GatewayEnv>();
  app.all("*", (c) => handler(c.req.raw));
  const server = await startServer(app, { host: v.host ?? "127.0.0.1", port: v.port ? Number(v.port) : 8088 });
  io.out(`OHTTP relay for ${v.gateway} at ${server.url} (POST message/ohttp-req to /, keys at /ohttp-keys)`);
  await untilStopped(io);
  await server.close({ drainMs: 1000 });
  return EXIT.ok;
}
