/**
 * The floor of the gateway benches: the least a Node gateway can do on node:http — read
 * the request, parse it as JSON (any gateway must, to route and check it), forward it over
 * a keep-alive client, and hand the answer back (parsed and re-serialised when buffered,
 * piped when streamed). No auth, signing, metering or store. What the real gateway costs
 * above this side is ours; this side's own cost is Node's HTTP stack on this machine.
 *
 *   node --import tsx bench/bare-proxy.ts UPSTREAM_URL   (prints "listening at URL/v1")
 */
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

const upstream = new URL(process.argv[2] ?? "http://127.0.0.1:1");
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on("data", (c: Buffer) => parts.push(c));
  req.on("end", () => {
    const body = Buffer.concat(parts);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const stream = typeof parsed === "object" && parsed !== null && "stream" in parsed && parsed.stream === true;
    const out = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, agent, headers: { "content-type": "application/json", "content-length": body.length } }, (up) => {
      if (stream) {
        res.writeHead(up.statusCode ?? 502, { "content-type": up.headers["content-type"] ?? "text/event-stream" });
        up.pipe(res);
        return;
      }
      const got: Buffer[] = [];
      up.on("data", (c: Buffer) => got.push(c));
      up.on("end", () => {
        const text = JSON.stringify(JSON.parse(Buffer.concat(got).toString("utf8")));
        res.writeHead(up.statusCode ?? 502, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
      });
    });
    out.on("error", () => res.writeHead(502).end());
    out.end(body);
  });
});
server.listen(0, "127.0.0.1", () => console.log(`listening at http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
