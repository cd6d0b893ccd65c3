/**
 * Test helpers for agents (imported only by tests and benches): a signed bundle from
 * inline code, a TLS "external" upstream on 127.0.0.1 (self-signed with openssl), and a
 * canary TCP/UDP listener that records anything that reaches it.
 */
import { execFileSync } from "node:child_process";
import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bundleHash, BUNDLE_FORMAT, signBundle, type SignedBundle } from "./bundle.js";
import { parseManifest } from "./manifest.js";
import type { Sha256 } from "../types.js";

export const DEVELOPER_KEY = ed25519.utils.randomSecretKey();

export function inlineBundle(code: string, manifest: Record<string, unknown> = {}, key: Uint8Array = DEVELOPER_KEY): { signed: SignedBundle; hash: Sha256 } {
  const m = parseManifest({ name: "test-agent", version: "1.0.0", entry: "index.js", ...manifest });
  const signed = signBundle({ format: BUNDLE_FORMAT, manifest: m, code }, key);
  return { signed, hash: bundleHash(signed.bundle) };
}

export interface Canary {
  readonly port: number;
  readonly udpPort: number;
  readonly received: () => { tcp: number; udp: number; bytes: Buffer };
  close(): Promise<void>;
}

export async function startCanary(): Promise<Canary> {
  let tcp = 0;
  let udp = 0;
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createTcpServer((s) => {
    tcp++;
    sockets.add(s);
    s.on("data", (d) => chunks.push(d));
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const u: UdpSocket = createSocket("udp4");
  u.on("message", (d) => (udp++, chunks.push(d)));
  await new Promise<void>((r) => u.bind(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    udpPort: u.address().port,
    received: () => ({ tcp, udp, bytes: Buffer.concat(chunks) }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => u.close(() => r()));
    },
  };
}

export function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export interface TlsUpstream {
  readonly port: number;
  /** Connections whose TLS handshake completed, with the SNI each asked for. */
  readonly handshakes: string[];
  close(): Promise<void>;
}

/** A TLS server answering every request with `respond(path)` (status line + headers + body). */
export async function startTlsUpstream(respond: (path: string) => string): Promise<TlsUpstream> {
  const dir = mkdtempSync(join(tmpdir(), "cloister-tls-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", join(dir, "k.pem"), "-out", join(dir, "c.pem"), "-days", "1", "-subj", "/CN=upstream.test"], { stdio: "ignore" });
  const key = readFileSync(join(dir, "k.pem"));
  const cert = readFileSync(join(dir, "c.pem"));
  rmSync(dir, { recursive: true, force: true });
  const handshakes: string[] = [];
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key, cert }, (s) => {
    handshakes.push((s as unknown as { servername?: string }).servername ?? "");
    sockets.add(s);
    let buf = "";
    s.on("data", (d) => {
      buf += d.toString("latin1");
      const m = /^[A-Z]+ (\S+) HTTP\/1\.1\r\n[\s\S]*?\r\n\r\n/.exec(buf);
      if (m) s.end(respond(m[1] ?? "/"));
    });
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    handshakes,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Agent-side helpers prepended to attack agents: CONNECT through the egress socket, TLS over it. */
export const AGENT_NET_HELPERS = `
import net from "node:net"; import tls from "node:tls"; import fs from "node:fs";
const SOCK = process.env.CLOISTER_EGRESS_SOCKET;
const input = JSON.parse(fs.readFileSync(0, "utf8"));
function once(fn) { let d = false; return (v) => { if (!d) { d = true; fn(v); } }; }
function connectVia(authority) {
  return new Promise((res) => {
    const done = once(res);
    const s = net.connect(SOCK);
    s.on("error", (e) => done({ ok: false, status: "error " + e.code }));
    s.on("close", () => done({ ok: false, status: "closed" }));
    s.write("CONNECT " + authority + " HTTP/1.1\\r\\nHost: " + authority + "\\r\\n\\r\\n");
    s.once("data", (d) => { const line = d.toString("latin1").split("\\r\\n")[0]; done({ ok: /^HTTP\\/1\\.1 200/.test(line), status: line, socket: s }); });
    setTimeout(() => done({ ok: false, status: "timeout" }), 5000).unref();
  });
}
async function tlsGet(authority, servername, path) {
  const c = await connectVia(authority);
  if (!c.ok) return { stage: "connect", status: c.status };
  return new Promise((res) => {
    const done = once(res);
    const opts = { socket: c.socket, rejectUnauthorized: false };
    if (servername) opts.servername = servername;
    const t = tls.connect(opts);
    t.on("error", (e) => done({ stage: "tls", status: e.code || e.message }));
    t.on("close", () => done({ stage: "closed" }));
    t.on("secureConnect", () => {
      t.write("GET " + (path || "/") + " HTTP/1.1\\r\\nHost: " + servername + "\\r\\nConnection: close\\r\\n\\r\\n");
      let b = ""; t.on("data", (d) => (b += d)); t.on("end", () => done({ stage: "done", response: b }));
    });
    setTimeout(() => done({ stage: "timeout" }), 5000).unref();
  });
}
`;
