/**
 * The egress proxy: the only thing a sandboxed agent can reach, over a Unix socket bound
 * into its sandbox. It speaks HTTP/1.1 and allows exactly two things:
 *
 *  - `CONNECT host:port` to a host:port the manifest declares: the authority is
 *    canonicalised (host.ts), the name resolved here and every answer checked
 *    (address-policy.ts), the checked address dialled (never the name again: no
 *    rebinding), and the first bytes must be a TLS ClientHello whose SNI is that host.
 *    The proxy never sees inside TLS, so it cannot follow redirects: the agent's own
 *    follow-up is a new CONNECT, judged like any other.
 *  - origin-form requests to `/v1/...` (the agent's OPENAI_BASE_URL): inference on the
 *    node, for the models the manifest names, with the agent's placeholder key replaced
 *    by the caller's credential, which never enters the sandbox.
 *
 * Everything else (absolute-form plain HTTP, upgrades, other paths) is refused. Each
 * decision is recorded and counted in a TrafficLog; nothing of content is.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect as netConnect, type Socket } from "node:net";
import { lookup } from "node:dns/promises";
import type { Duplex } from "node:stream";
import { egressAllows, type EgressRule } from "../manifest.js";
import { canonicalAuthority } from "./host.js";
import { publicUnicastOnly, type AddressPolicy } from "./address-policy.js";
import { parseClientHello } from "./client-hello.js";
import { TrafficLog } from "./traffic.js";

export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export interface InferenceTarget {
  /** Sends a request to the node's OpenAI-compatible API (in-process or over loopback). */
  readonly fetch: (req: Request) => Promise<Response>;
  /** e.g. http://cloister.internal; only the path of the agent's request is kept. */
  readonly baseUrl: string;
  /** `Bearer ...` of the caller, or null for a node without auth. Never shown to the agent. */
  readonly authorization: string | null;
  readonly models: readonly string[];
}

export interface EgressProxyOptions {
  readonly rules: readonly EgressRule[];
  readonly addressPolicy?: AddressPolicy;
  readonly resolve?: Resolver;
  readonly inference?: InferenceTarget;
  readonly log?: TrafficLog;
  readonly maxTunnels?: number;
  readonly helloTimeoutMs?: number;
  readonly maxInferenceBodyBytes?: number;
}

const INFERENCE_PATHS = new Set(["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/models"]);
// Response headers worth passing back; hop-by-hop ones and anything node-internal stay out.
const PASS_HEADERS = ["content-type", "x-cloister-request-id", "x-cloister-signature", "openai-model"];

export interface EgressProxy {
  readonly log: TrafficLog;
  listen(socketPath: string): Promise<void>;
  close(): Promise<void>;
}

export function createEgressProxy(opts: EgressProxyOptions): EgressProxy {
  const log = opts.log ?? new TrafficLog();
  const policy = opts.addressPolicy ?? publicUnicastOnly;
  const resolve = opts.resolve ?? systemResolver;
  const maxTunnels = opts.maxTunnels ?? 32;
  const sockets = new Set<Duplex>();
  let tunnels = 0;

  const server: Server = createServer({ requestTimeout: 600_000, headersTimeout: 10_000, maxHeaderSize: 16 * 1024 });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("clientError", (_err, socket) => socket.destroy());
  server.on("upgrade", (_req, socket) => {
    log.decide("http", "upgrade", 0, false, "upgrade_refused");
    socket.end("HTTP/1.1 403 Forbidden\r\nconnection: close\r\n\r\n");
  });

  server.on("connect", (req: IncomingMessage, client: Duplex, head: Buffer) => {
    void handleConnect(req.url ?? "", client, head);
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    void handleRequest(req, res);
  });

  function refuse(client: Duplex, status: string, kind: "connect", host: string, port: number, reason: string): void {
    log.decide(kind, host, port, false, reason);
    client.end(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\negress refused: ${reason}\n`);
  }

  async function handleConnect(authority: string, client: Duplex, head: Buffer): Promise<void> {
    client.on("error", () => client.destroy());
    const a = canonicalAuthority(authority);
    if (!a.ok) return refuse(client, "400 Bad Request", "connect", authority, 0, a.reason);
    if (a.ip) return refuse(client, "403 Forbidden", "connect", a.host, a.port, "ip_literal");
    if (!egressAllows(opts.rules, a.host, a.port)) return refuse(client, "403 Forbidden", "connect", a.host, a.port, "not_declared");
    if (tunnels >= maxTunnels) return refuse(client, "429 Too Many Requests", "connect", a.host, a.port, "too_many_tunnels");
    let addresses: string[];
    try {
      addresses = await resolve(a.host);
    } catch {
      return refuse(client, "502 Bad Gateway", "connect", a.host, a.port, "resolve_failed");
    }
    if (addresses.length === 0) return refuse(client, "502 Bad Gateway", "connect", a.host, a.port, "resolve_failed");
    // One bad answer spoils the name: a resolver mixing public and private answers is an attack.
    for (const ip of addresses) {
      const v = policy(ip);
      if (!v.ok) return refuse(client, "403 Forbidden", "connect", a.host, a.port, v.reason);
    }
    const dialled = addresses[0] as string;
    tunnels++;
    let released = false;
    const release = (): void => {
      if (!released) (released = true), tunnels--;
    };
    client.on("close", release);
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    const hello = await readHello(client, head, opts.helloTimeoutMs ?? 10_000);
    if (hello.kind !== "ok") {
      release();
      log.decide("connect", a.host, a.port, false, hello.kind);
      client.destroy();
      return;
    }
    if (hello.sni === null || hello.ech || canonicalSni(hello.sni) !== a.host) {
      release();
      log.decide("connect", a.host, a.port, false, hello.ech ? "ech_refused" : hello.sni === null ? "sni_missing" : "sni_mismatch");
      client.destroy();
      return;
    }
    log.decide("connect", a.host, a.port, true, "declared");
    const t = log.traffic(a.host, a.port);
    t.connections++;
    const upstream = netConnect({ host: dialled, port: a.port });
    sockets.add(upstream);
    upstream.on("close", () => (sockets.delete(upstream), client.destroy(), release()));
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    t.bytesOut += hello.bytes.length;
    upstream.write(hello.bytes);
    client.on("data", (d: Buffer) => {
      t.bytesOut += d.length;
      if (!upstream.write(d)) client.pause();
    });
    upstream.on("drain", () => client.resume());
    upstream.on("data", (d: Buffer) => {
      t.bytesIn += d.length;
      if (!client.write(d)) upstream.pause();
    });
    client.on("drain", () => upstream.resume());
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.resume();
  }

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? "";
    const inf = opts.inference;
    if (!url.startsWith("/")) {
      const host = canonicalAuthority(safeHost(url), 80);
      log.decide("http", host.ok ? host.host : url, host.ok ? host.port : 0, false, "plain_http_refused");
      return send(res, 403, "plain HTTP egress is refused: use CONNECT to a declared HTTPS host");
    }
    const path = url.split("?")[0] ?? "";
    if (!inf || !INFERENCE_PATHS.has(path)) {
      log.decide("inference", "inference", 0, false, inf ? "path_refused" : "inference_disabled");
      return send(res, 404, "only the node's OpenAI-compatible API is reachable here");
    }
    const body = await readBody(req, opts.maxInferenceBodyBytes ?? 4 * 1024 * 1024);
    if (body === null) {
      log.decide("inference", "inference", 0, false, "body_too_large");
      return send(res, 413, "request body too large");
    }
    if (req.method === "POST") {
      let model: unknown;
      try {
        model = (JSON.parse(Buffer.from(body).toString("utf8")) as { model?: unknown }).model;
      } catch {
        model = undefined;
      }
      if (typeof model !== "string" || !inf.models.includes(model)) {
        log.decide("inference", "inference", 0, false, "model_not_declared");
        return send(res, 403, "the agent's manifest does not declare this model");
      }
    } else if (req.method !== "GET") {
      log.decide("inference", "inference", 0, false, "method_refused");
      return send(res, 405, "method not allowed");
    }
    log.decide("inference", "inference", 0, true, "declared");
    const t = log.traffic("inference", 0);
    t.connections++;
    t.bytesOut += body.length;
    const headers = new Headers();
    const ct = req.headers["content-type"];
    if (typeof ct === "string") headers.set("content-type", ct);
    // The agent's OPENAI_API_KEY is a placeholder; whatever it sent is dropped here.
    if (inf.authorization) headers.set("authorization", inf.authorization);
    let upstream: Response;
    try {
      upstream = await inf.fetch(new Request(new URL(url, inf.baseUrl), { method: req.method, headers, ...(req.method === "POST" ? { body: new Blob([Buffer.from(body)]) } : {}) }));
    } catch {
      return send(res, 502, "inference failed");
    }
    const out: Record<string, string> = {};
    for (const h of PASS_HEADERS) {
      const v = upstream.headers.get(h);
      if (v !== null) out[h] = v;
    }
    res.writeHead(upstream.status, out);
    if (upstream.body) {
      const reader = upstream.body.getReader();
      res.on("close", () => void reader.cancel().catch(() => {}));
      for (;;) {
        const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
        if (done) break;
        t.bytesIn += value.length;
        res.write(value);
      }
    }
    res.end();
  }

  return {
    log,
    listen: (socketPath) =>
      new Promise((resolveListen, reject) => {
        server.once("error", reject);
        server.listen(socketPath, () => (server.off("error", reject), resolveListen()));
      }),
    close: () =>
      new Promise((resolveClose) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolveClose());
      }),
  };
}

function canonicalSni(sni: string): string | null {
  const a = canonicalAuthority(sni, 443);
  return a.ok && !a.ip ? a.host : null;
}

function safeHost(absoluteUrl: string): string {
  try {
    return new URL(absoluteUrl).host;
  } catch {
    return "";
  }
}

function send(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ error: { message, type: "egress_refused", code: "EGRESS_REFUSED" } });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), connection: "close" });
  res.end(body);
}

function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | null> {
  return new Promise((resolveBody) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (d: Buffer) => {
      size += d.length;
      if (size > max) {
        resolveBody(null);
        req.destroy();
        return;
      }
      chunks.push(d);
    });
    req.on("end", () => resolveBody(new Uint8Array(Buffer.concat(chunks))));
    req.on("error", () => resolveBody(null));
  });
}

type Hello = { kind: "ok"; sni: string | null; ech: boolean; bytes: Buffer } | { kind: "not_tls" | "hello_timeout" | "closed" };

function readHello(client: Duplex, head: Buffer, timeoutMs: number): Promise<Hello> {
  return new Promise((resolveHello) => {
    let buf = head;
    let done = false;
    const finish = (h: Hello): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.off("data", onData);
      client.off("close", onClose);
      if (h.kind === "ok") client.pause();
      resolveHello(h);
    };
    const check = (): void => {
      const p = parseClientHello(buf);
      if (p.state === "ok") finish({ kind: "ok", sni: p.sni, ech: p.ech, bytes: buf });
      else if (p.state === "not_tls") finish({ kind: "not_tls" });
    };
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      check();
    };
    const onClose = (): void => finish({ kind: "closed" });
    const timer = setTimeout(() => finish({ kind: "hello_timeout" }), timeoutMs);
    client.on("data", onData);
    client.on("close", onClose);
    if (buf.length) check();
  });
}
