/**
 * What middleware hands to the handlers through hono's typed context variables, and the
 * one helper that reads a request body (so the signer and the handler hash and parse the
 * very same bytes, including after an outer middleware such as E2E replaced the request).
 */
import type { Context } from "hono";
import type { Meter } from "./meter.js";
import { pooledRandomBytes } from "../util/random-pool.js";

export interface GatewayVariables {
  /** chatcmpl-… / cmpl-… / embd-… / req-…: the completion id and X-Cloister-Request-Id. */
  requestId: string;
  /** Aborted on client disconnect, request timeout or forced shutdown. */
  signal: AbortSignal;
  /** Runs when the response has been fully sent (streams: after the last byte) or abandoned. */
  onEnd: (cb: (outcome: ResponseOutcome) => void) => void;
  /** The authenticated API key's id; null with --no-auth. */
  keyId: string | null;
  meter: Meter;
}

export interface ResponseOutcome {
  readonly status: number;
  /** True when the client went away or the stream errored before the end. */
  readonly aborted: boolean;
}

/** Node bindings when served by @hono/node-server; absent under app.request() in tests. */
export interface GatewayBindings {
  readonly outgoing?: unknown;
}

export interface GatewayEnv {
  Variables: GatewayVariables;
  Bindings: GatewayBindings;
}

export type GatewayContext = Context<GatewayEnv>;

const bodies = new WeakMap<Request, Promise<Uint8Array>>();

/** The exact bytes of the current request body, read once per Request object. */
export function bodyBytes(c: Context): Promise<Uint8Array> {
  const raw = c.req.raw;
  let p = bodies.get(raw);
  if (!p) {
    p = raw.arrayBuffer().then((b) => new Uint8Array(b));
    bodies.set(raw, p);
  }
  return p;
}

/** Bodies already in memory (setBodyBytes): a read merely begun is not one (its size is not known to be bounded). */
const inMemory = new WeakMap<Request, Uint8Array>();

/** The body bytes recorded with setBodyBytes for the current request, if any. */
export function knownBodyBytes(c: Context): Uint8Array | undefined {
  return inMemory.get(c.req.raw);
}

/** Records bytes as the body of a Request that was rebuilt around them (body limit, E2E). */
export function setBodyBytes(req: Request, bytes: Uint8Array): void {
  inMemory.set(req, bytes);
  bodies.set(req, Promise.resolve(bytes));
}

/** Replaces the response without hono merging the old headers into it (content-length would go stale). */
export function replaceResponse(c: Context, res: Response): void {
  c.res = undefined;
  c.res = res;
}

/**
 * `prefix`, the time in ms as 12 hex digits, then 96 random bits (16 base64url chars). The
 * time first makes ids made one after another sort together, so the store's b-trees keyed
 * by id (usage, signatures; SQLite and PostgreSQL) take each group commit's new keys into
 * the same rightmost pages instead of one random page each: WAL frames per request 4.8 ->
 * 3.0 and the writer's CPU 109 -> 70 µs at the journal's group size (docs/notes/api.md).
 * The time is no secret (the body's `created` says it to the second).
 */
export function newId(prefix: string): string {
  const b = pooledRandomBytes(12);
  return `${prefix}${Date.now().toString(16).padStart(12, "0")}${Buffer.from(b.buffer, b.byteOffset, b.length).toString("base64url")}`;
}

export function idPrefixFor(path: string): string {
  if (path.endsWith("/chat/completions")) return "chatcmpl-";
  if (path.endsWith("/completions")) return "cmpl-";
  if (path.endsWith("/embeddings")) return "embd-";
  if (path.endsWith("/responses")) return "resp_";
  return "req-";
}
