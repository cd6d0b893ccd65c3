/**
 * Observes a byte stream without changing it: the signer hashes each chunk, the request
 * scope learns when the last byte went out (or the client left). highWaterMark 0 keeps
 * it pull-driven, so back-pressure from a slow client reaches the generator unchanged.
 *
 * Several layers tap the same response (pass-through usage, signing, scope). Each
 * ReadableStream costs a pull, a read promise per chunk and, in Node 20, a costly
 * constructor (makeTransferable), so tapping a stream this module made adds the hooks to
 * it instead of wrapping it again. The order is what nesting would give: chunk and end
 * hooks run innermost (first tapped) first, each `end` awaited before the next, all
 * before the stream closes.
 */
export interface TapHooks {
  chunk?(bytes: Uint8Array): void;
  /** Runs before the stream closes: its work (signing, trailers) precedes the end of the response. */
  end?(): void | Promise<void>;
  abort?(reason: unknown): void;
  /**
   * On an error from the source: bytes to end the stream with instead of failing it (an
   * SSE error event), or null. The first hook to give some wins; every hook then sees them
   * as a last chunk, and the stream ends as a finished one (end hooks, then close).
   */
  recover?(err: unknown): Uint8Array | null;
}

const tapped = new WeakMap<ReadableStream<Uint8Array>, TapHooks[]>();

export function tapStream(src: ReadableStream<Uint8Array>, hooks: TapHooks): ReadableStream<Uint8Array> {
  const existing = src.locked ? undefined : tapped.get(src);
  if (existing) {
    existing.push(hooks);
    return src;
  }
  const all: TapHooks[] = [hooks];
  const reader = src.getReader();
  // Hooks whose end (or abort) already ran: each runs at most one of the two, once.
  let settledUpTo = 0;
  const abortRest = (reason: unknown): void => {
    while (settledUpTo < all.length) {
      const h = all[settledUpTo++];
      try {
        h?.abort?.(reason);
      } catch {
        // An abort hook must never stop the others from running.
      }
    }
  };
  const out = new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            while (settledUpTo < all.length) await all[settledUpTo++]?.end?.();
            ctrl.close();
            return;
          }
          for (const h of all) h.chunk?.(value);
          ctrl.enqueue(value);
        } catch (err) {
          let last: Uint8Array | null = null;
          for (const h of all) if ((last = h.recover?.(err) ?? null)) break;
          if (!last) {
            abortRest(err);
            ctrl.error(err);
            return;
          }
          try {
            for (const h of all) h.chunk?.(last);
            ctrl.enqueue(last);
            while (settledUpTo < all.length) await all[settledUpTo++]?.end?.();
            ctrl.close();
          } catch (endErr) {
            abortRest(endErr);
            ctrl.error(endErr);
          }
        }
      },
      async cancel(reason) {
        abortRest(reason);
        await reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
  tapped.set(out, all);
  return out;
}

export function isEventStream(res: Response): boolean {
  return (headerOf(res, "content-type") ?? "").startsWith("text/event-stream");
}

interface Buffered {
  readonly bytes: Uint8Array;
  /** Lowercase names. Never changed once the Response is made: withBufferedHeaders makes a new one. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Set once anything read `res.headers`: that hands out the live Headers, which a layer
   * (CORS, a deps.middleware.outer plugin) may change in place, so from then on the record
   * is stale and the live Headers are the truth.
   */
  live: boolean;
}

const buffered = new WeakMap<Response, Buffered>();
const streamed = new WeakMap<Response, ReadableStream<Uint8Array>>();

type ResponseClass = typeof Response;
let subclassOf: ResponseClass | undefined;
let subclass: ResponseClass | undefined;

/**
 * A subclass of the Response in use now (the node server swaps in its own at start-up),
 * whose `headers` getter marks the record stale. A class rather than a per-object
 * property keeps one shape for every buffered Response.
 */
function bufferedClass(): ResponseClass {
  const base = globalThis.Response;
  if (subclass === undefined || subclassOf !== base) {
    subclass = class BufferedResponse extends base {
      override get headers(): Headers {
        const b = buffered.get(this);
        if (b) b.live = true;
        return super.headers;
      }
    };
    subclassOf = base;
  }
  return subclass;
}

function lowercased(h: Readonly<Record<string, string>>, into: Record<string, string> = {}): Record<string, string> {
  for (const k of Object.keys(h)) into[k.toLowerCase()] = h[k] as string;
  return into;
}

function liveRecord(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => (out[k] = v));
  return out;
}

/**
 * A Response over bytes already in memory, remembered so that later layers (signing) can
 * hash them without reading the body back through a stream, and so that the server
 * adapter's fast path (a body it can write in one go) stays available.
 *
 * Its headers are a plain record, which @hono/node-server writes as it is: reading
 * `res.headers` would build a Headers object (undici's, ~10 µs per request here) and the
 * adapter would then convert it back. So layers read a buffered Response's headers with
 * headerOf() and add to them with withBufferedHeaders(). A layer that does use
 * `res.headers` (and changes them in place) is still heard: from then on both read the
 * live Headers. Names are lowercase.
 */
export function bufferedResponse(bytes: Uint8Array, init: { readonly status?: number; readonly headers: Readonly<Record<string, string>> }): Response {
  return lowercaseBuffered(bytes, init.status ?? 200, lowercased(init.headers));
}

/** bufferedResponse() over a record whose names are lowercase already. */
function lowercaseBuffered(bytes: Uint8Array, status: number, headers: Record<string, string>): Response {
  const Sub = bufferedClass();
  // A Buffer from node:http may sit on a shared pool ArrayBuffer; Response only reads its view.
  const res = new Sub(bytes as Uint8Array<ArrayBuffer>, { status, headers });
  buffered.set(res, { bytes, headers, live: false });
  return res;
}

/** The bytes a Response was made from with bufferedResponse(); undefined for any other. */
/** Headers as the plain lowercase record a buffered Response keeps. */
export function headerRecord(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => (out[k] = v));
  return out;
}

export function bufferedBody(res: Response): Uint8Array | undefined {
  return buffered.get(res)?.bytes;
}

/** The same buffered Response with headers added (a new Response: the record is never mutated); null for any other. */
export function withBufferedHeaders(res: Response, extra: Readonly<Record<string, string>>): Response | null {
  const b = buffered.get(res);
  if (!b) return null;
  const base = b.live ? liveRecord(res) : b.headers;
  return lowercaseBuffered(b.bytes, res.status, lowercased(extra, { ...base }));
}

/** A response header, read from a buffered Response's record without building Headers. */
export function headerOf(res: Response, name: string): string | null {
  const b = buffered.get(res);
  return b && !b.live ? (b.headers[name.toLowerCase()] ?? null) : res.headers.get(name);
}

/** A Response over a stream, remembered like bufferedResponse() (reading `res.body` of the server's lightweight Response is costly). */
export function streamedResponse(body: ReadableStream<Uint8Array>, init: ResponseInit): Response {
  const res = new Response(body, init);
  streamed.set(res, body);
  return res;
}

/** The stream a Response was made from with streamedResponse(); undefined for any other. */
export function streamedBody(res: Response): ReadableStream<Uint8Array> | undefined {
  return streamed.get(res);
}
