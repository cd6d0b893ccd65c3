/**
 * Fixtures for the client and proxy end-to-end tests: an in-process node (the real
 * gateway, the simulator TEE, an in-memory store, E2E middleware) on 127.0.0.1:0, a fast
 * fake backend whose answer we can search for, and a real HTTP proxy that records every
 * byte both ways and can tamper with them.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createSimulatorProvider } from "../../src/attest/simulator/provider.js";
import { clientErrorOf } from "../../src/client/failure.js";
import { ClientError } from "../../src/errors.js";
import type { TeeProvider } from "../../src/attest/provider.js";
import type { GenerationEvent, InferenceBackend } from "../../src/inference/backend.js";
import { createGateway, type GatewayDeps } from "../../src/gateway/app.js";
import { startServer, type RunningServer } from "../../src/gateway/server.js";
import { generateE2EKeyPair, type E2EKeyPair } from "../../src/seal/e2e/suite.js";
import { generateApiKey } from "../../src/store/api-keys.js";
import { openSqliteStore } from "../../src/store/sqlite.js";
import { generateIssuerKey, type IssuerKey } from "../../src/transparency/tokens/issuer.js";
import { TokenRedeemer } from "../../src/transparency/tokens/redeemer.js";
import type { Store } from "../../src/store/store.js";
import type { TokenSale } from "../../src/transparency/tokens/escrow-sale.js";

/** Words of the answer; the tests search the wire for them. */
export const ANSWER_WORDS = ["The", " vault", " code", " is", " ultraviolet", "-", "pangolin", "."];
export const ANSWER = ANSWER_WORDS.join("");

/** Streams ANSWER_WORDS (or `words`) as deltas; fast, so benchmarks measure our layers. */
export function fakeBackend(words: readonly string[] = ANSWER_WORDS): InferenceBackend {
  async function* gen(): AsyncGenerator<GenerationEvent> {
    for (const w of words) yield { type: "delta", text: w };
    yield { type: "done", finishReason: "stop", usage: { promptTokens: 5, completionTokens: words.length } };
  }
  return {
    kind: "llama",
    listModels: async () => [{ id: "fake", ownedBy: "test", created: 1 }],
    chat: () => gen(),
    complete: () => gen(),
    embed: async (_m, input) => ({ vectors: input.map(() => [0.1, 0.2, 0.3]), usage: { promptTokens: input.length, completionTokens: 0 } }),
    close: async () => {},
  };
}

export interface TestNode {
  readonly url: string;
  readonly store: Store;
  /** A valid API key when started with `apiKey: true` (auth on); null with auth off. */
  readonly apiKey: string | null;
  readonly e2eKeys: E2EKeyPair;
  close(): Promise<void>;
}

export async function startTestNode(opts: { requireE2E?: boolean; backend?: InferenceBackend; tee?: TeeProvider; apiKey?: boolean; tokens?: boolean; agents?: GatewayDeps["agents"]; tokenSale?: (key: IssuerKey) => TokenSale; signers?: GatewayDeps["signers"]; requestTimeoutMs?: number } = {}): Promise<TestNode> {
  const store = openSqliteStore({ path: ":memory:" });
  let apiKey: string | null = null;
  if (opts.apiKey) {
    const k = generateApiKey();
    await store.createApiKey({ id: k.id, hash: k.hash, name: "test", created: Date.now() });
    apiKey = k.key;
  }
  const tokenKey = opts.tokens ? await generateIssuerKey() : null;
  const e2eKeys = generateE2EKeyPair();
  const e2e = { ...e2eKeys, required: opts.requireE2E ?? false };
  const app = createGateway({
    backend: opts.backend ?? fakeBackend(),
    tee: opts.tee ?? createSimulatorProvider(),
    store,
    authRequired: apiKey !== null,
    ...(tokenKey ? { tokens: { key: tokenKey, redeemer: new TokenRedeemer(tokenKey), ...(opts.tokenSale ? { sale: opts.tokenSale(tokenKey) } : {}) } } : {}),
    // createGateway mounts src/gateway/e2e.ts outside signing when given the keys.
    e2e,
    // These tests attest hundreds of times from 127.0.0.1; the limit has its own test
    // (test/e2e/report-rate-limit.test.ts).
    limits: { reportRateLimit: { burst: 100_000, perSecond: 100_000 }, ...(opts.requestTimeoutMs ? { requestTimeoutMs: opts.requestTimeoutMs } : {}) },
    ...(opts.agents ? { agents: opts.agents } : {}),
    ...(opts.signers ? { signers: opts.signers } : {}),
  });
  const server: RunningServer = await startServer(app, { host: "127.0.0.1", port: 0 });
  return {
    url: server.url,
    store,
    apiKey,
    e2eKeys,
    close: async () => {
      await server.close({ drainMs: 100 });
      await store.close();
    },
  };
}

export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly requestBytes: Buffer;
  readonly responseBytes: Buffer[];
}

/** An answer the proxy makes up itself, without asking the node. */
export interface ForgedAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

/** What a test may do to the traffic. Each hook sees one exchange. */
export interface Tamper {
  /** Where to send this request (default: the proxy's target). */
  route?(path: string): string | undefined;
  /** The path to ask the node for (a reverse proxy mapping its own prefix onto the node's /v1). */
  rewritePath?(path: string): string | undefined;
  /** Answer without asking the node (a hostile proxy forging a response). */
  respond?(method: string, path: string, body: Buffer): ForgedAnswer | undefined;
  /** Change the request headers, as raw name/value pairs (so a header can be sent twice); host is set after. */
  requestHeaders?(path: string, headers: [string, string][]): [string, string][] | undefined;
  /** Change the response headers (e.g. strip the signature headers). */
  responseHeaders?(path: string, headers: Record<string, string | string[] | undefined>): Record<string, string | string[] | undefined> | undefined;
  /** Replace a whole (buffered) response body. */
  responseBody?(path: string, body: Buffer): Buffer | undefined;
  /** Change one streamed response chunk (index counts from 0 per response). */
  responseChunk?(path: string, index: number, chunk: Buffer): Buffer | undefined;
}

export interface RecordingProxy {
  readonly url: string;
  readonly exchanges: Exchange[];
  tamper: Tamper;
  /** Every byte seen on the wire both ways (headers included) as latin1 text, for searching. */
  wire(): string;
  close(): Promise<void>;
}

function headerBlock(start: string, headers: IncomingMessage["rawHeaders"]): Buffer {
  const lines = [start];
  for (let i = 0; i + 1 < headers.length; i += 2) lines.push(`${headers[i]}: ${headers[i + 1]}`);
  return Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1");
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const exchanges: Exchange[] = [];
  const raw: Buffer[] = [];
  const proxy: { tamper: Tamper } = { tamper: {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      const requestBytes = Buffer.concat(chunks);
      raw.push(headerBlock(`${req.method} ${path} HTTP/1.1`, req.rawHeaders), requestBytes);
      const ex: Exchange = { method: req.method ?? "GET", path, requestBytes, responseBytes: [] };
      exchanges.push(ex);
      const forged = proxy.tamper.respond?.(ex.method, path, requestBytes);
      if (forged) {
        const body = Buffer.from(forged.body);
        ex.responseBytes.push(body);
        raw.push(Buffer.from(`HTTP/1.1 ${forged.status}\r\n\r\n`, "latin1"), body);
        res.writeHead(forged.status, { ...forged.headers, "content-length": String(body.length) });
        res.end(body);
        return;
      }
      const base = new URL(proxy.tamper.route?.(path) ?? target);
      const pairs: [string, string][] = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
      const changed = proxy.tamper.requestHeaders?.(path, pairs);
      const headers = changed ? [...changed.filter(([k]) => k.toLowerCase() !== "host").flat(), "host", base.host] : { ...req.headers, host: base.host };
      const upPath = proxy.tamper.rewritePath?.(path) ?? path;
      const up = httpRequest({ host: base.hostname, port: base.port, method: req.method, path: upPath, headers }, (upRes) => {
        raw.push(headerBlock(`HTTP/1.1 ${upRes.statusCode}`, upRes.rawHeaders));
        const outHeaders = proxy.tamper.responseHeaders?.(path, { ...upRes.headers }) ?? { ...upRes.headers };
        const whole = proxy.tamper.responseBody;
        if (whole) {
          const parts: Buffer[] = [];
          upRes.on("data", (c: Buffer) => parts.push(c));
          upRes.on("end", () => {
            const original = Buffer.concat(parts);
            const body = whole(path, original) ?? original;
            ex.responseBytes.push(body);
            raw.push(body);
            delete outHeaders["transfer-encoding"];
            delete outHeaders["trailer"];
            res.writeHead(upRes.statusCode ?? 502, { ...outHeaders, "content-length": String(body.length) });
            res.end(body);
          });
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, outHeaders);
        let i = 0;
        upRes.on("data", (c: Buffer) => {
          const out = proxy.tamper.responseChunk?.(path, i++, c) ?? c;
          ex.responseBytes.push(out);
          raw.push(out);
          res.write(out);
        });
        upRes.on("end", () => {
          const trailers = upRes.rawTrailers;
          if (trailers.length) raw.push(headerBlock("TRAILERS", trailers));
          res.end();
        });
      });
      up.on("error", () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      up.end(requestBytes);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    wire: () => Buffer.concat(raw).toString("latin1"),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/**
 * A proxy chunk hook that drops every E2E frame whose FINAL bit is set (the sealed
 * trailer with the signature) from the responses whose path `which` matches; state is
 * per response (chunk index 0 starts a new one).
 */
export function dropFinalFrames(which: (path: string) => boolean): NonNullable<Tamper["responseChunk"]> {
  let buf = Buffer.alloc(0);
  return (path, index, chunk) => {
    if (!which(path)) return undefined;
    if (index === 0) buf = Buffer.alloc(0);
    buf = Buffer.concat([buf, chunk]);
    const out: Buffer[] = [];
    while (buf.length >= 4) {
      const word = buf.readUInt32BE(0);
      const len = word & 0x7fffffff;
      if (buf.length < 4 + len) break;
      if ((word & 0x80000000) === 0) out.push(buf.subarray(0, 4 + len));
      buf = buf.subarray(4 + len);
    }
    return Buffer.concat(out);
  };
}

/** Flips one bit of the byte at `at` (negative counts from the end). */
export function flipByte(buf: Buffer, at: number): Buffer {
  const out = Buffer.from(buf);
  const i = at < 0 ? out.length + at : at;
  out[i] = (out[i] ?? 0) ^ 0x01;
  return out;
}


/**
 * The client error code a verifying-client call ended with: its ClientError's code, or that
 * of a Response carrying one (onFailure "response"), "HTTP <status>" for another error
 * Response, "no error" when it succeeded.
 */
export async function clientCodeOf(p: Promise<unknown>): Promise<string> {
  try {
    const v = await p;
    if (v instanceof Response) return clientErrorOf(v)?.code ?? `HTTP ${v.status}`;
    return "no error";
  } catch (e) {
    return e instanceof ClientError ? e.code : `not a ClientError: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`;
  }
}
