/**
 * The agent-side half of the way out, loaded with `node --import` before the agent: a
 * TCP listener on the sandbox's own loopback that forwards every connection, byte for
 * byte, to the egress proxy's Unix socket. It exists only because the `openai` client and
 * proxy-aware HTTP clients want a TCP URL; it holds no secret and decides nothing (the
 * proxy outside does), so an agent that tampers with it only loses its own way out.
 * It sets OPENAI_BASE_URL / HTTPS_PROXY to its port before the agent's code runs.
 */
export const BRIDGE_SOURCE = `
import net from "node:net";
const sock = process.env.CLOISTER_EGRESS_SOCKET || "/run/egress.sock";
const server = net.createServer((c) => {
  const u = net.connect(sock);
  // The agent's own socket keeps it alive while a request is pending; these two must not.
  c.unref(); u.unref();
  c.pipe(u); u.pipe(c);
  c.on("error", () => u.destroy()); u.on("error", () => c.destroy());
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
server.unref();
const port = server.address().port;
process.env.OPENAI_BASE_URL = "http://127.0.0.1:" + port + "/v1";
process.env.HTTPS_PROXY = process.env.https_proxy = "http://127.0.0.1:" + port;
process.env.CLOISTER_EGRESS_PORT = String(port);
`;
