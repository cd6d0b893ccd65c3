/**
 * Slow request bodies (slowloris): a client that sends a body a byte every few seconds
 * holds a concurrency slot and a socket for as long as Node lets it. Node's own
 * requestTimeout bounds the whole receive (server.ts), but at 60 s four such clients kept
 * a 4-slot node busy for a minute. This guard enforces a minimum body rate, as Apache's
 * mod_reqtimeout does (`body=20,MinRate=500`): after a grace period the bytes received
 * must keep up with `minBytesPerSec`, and the socket may never be silent for `idleMs`
 * while the body is incomplete. A client that falls behind has its socket destroyed; the
 * request's abort signal then frees its slot (middleware/scope.ts).
 *
 * Progress is read from socket.bytesRead, never by listening to the body: attaching a
 * 'data' listener would switch the request into flowing mode and steal the bytes from
 * the app's reader.
 */
import type { IncomingMessage, Server } from "node:http";

export interface BodyRateOptions {
  /** Time before the rate is enforced (default 10 000 ms). */
  readonly graceMs?: number;
  /** Least average rate after the grace period (default 500 bytes/s, mod_reqtimeout's). */
  readonly minBytesPerSec?: number;
  /** Longest silence while the body is incomplete (default 10 000 ms). */
  readonly idleMs?: number;
  /** How often to look (default 500 ms). */
  readonly tickMs?: number;
}

export function guardBodyRate(server: Server, opts: BodyRateOptions = {}): void {
  const graceMs = opts.graceMs ?? 10_000;
  const minRate = opts.minBytesPerSec ?? 500;
  const idleMs = opts.idleMs ?? 10_000;
  const tickMs = opts.tickMs ?? 500;
  server.on("request", (req: IncomingMessage) => {
    if (req.complete || !hasBody(req)) return;
    const socket = req.socket;
    const start = Date.now();
    const base = socket.bytesRead;
    let seen = base;
    let lastProgress = start;
    // Removes everything this request added: a keep-alive socket serves many requests.
    const done = (): void => {
      clearInterval(timer);
      req.off("end", done);
      socket.off("close", done);
    };
    const timer = setInterval(() => {
      if (req.complete || socket.destroyed) return done();
      const now = Date.now();
      const read = socket.bytesRead;
      if (read !== seen) (seen = read), (lastProgress = now);
      const elapsed = now - start;
      const tooSlow = elapsed > graceMs && read - base < (minRate * (elapsed - graceMs)) / 1000;
      if (tooSlow || now - lastProgress > idleMs) {
        done();
        socket.destroy();
      }
    }, tickMs);
    timer.unref();
    req.once("end", done);
    socket.once("close", done);
  });
}

function hasBody(req: IncomingMessage): boolean {
  if (req.headers["transfer-encoding"] !== undefined) return true;
  const n = Number(req.headers["content-length"] ?? "0");
  return Number.isFinite(n) && n > 0;
}
