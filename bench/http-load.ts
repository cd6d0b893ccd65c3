/**
 * A lean HTTP/1.1 load client for the gateway benchmark: node:http with a keep-alive
 * agent, no WHATWG streams. The load generator shares the machine's cores with the
 * gateway and the upstream, so a heavy client (undici fetch costs ~1 ms CPU per request
 * on this box) would steal the CPU it is trying to measure. Also: CPU time of another
 * process from /proc, so the bench can report CPU per request, which transfers to other
 * hardware better than wall-clock on two shared cores.
 */
import { Agent, request } from "node:http";
import { readFileSync } from "node:fs";

export interface PostResult {
  readonly ok: boolean;
  /** SSE content chunks received (0 for a JSON body). */
  readonly chunks: number;
  /** ms from sending to the first body byte. */
  readonly firstByteMs: number;
  readonly totalMs: number;
}

export function createClient(maxSockets: number): { post(url: string, payload: string): Promise<PostResult>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets });
  return {
    post(url, payload) {
      return new Promise<PostResult>((resolve) => {
        const t0 = performance.now();
        let firstByteMs = NaN;
        const req = request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } }, (res) => {
          const parts: Buffer[] = [];
          res.on("data", (d: Buffer) => {
            if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - t0;
            parts.push(d);
          });
          res.on("end", () => {
            const text = Buffer.concat(parts).toString("utf8");
            const sse = (res.headers["content-type"] ?? "").startsWith("text/event-stream");
            const chunks = sse ? (text.match(/"content":"[^"]/g) ?? []).length : 0;
            // A stream that errors mid-way still answers 200: an `error` event is a failure too.
            const ok = res.statusCode === 200 && !text.includes('"error"');
            resolve({ ok, chunks, firstByteMs, totalMs: performance.now() - t0 });
          });
          res.on("error", () => resolve({ ok: false, chunks: 0, firstByteMs, totalMs: performance.now() - t0 }));
        });
        req.on("error", () => resolve({ ok: false, chunks: 0, firstByteMs, totalMs: performance.now() - t0 }));
        req.end(payload);
      });
    },
    close: () => agent.destroy(),
  };
}

/** User+system CPU seconds a process has used so far (Linux /proc; NaN elsewhere). */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100; // USER_HZ is 100 on Linux (getconf CLK_TCK)
  } catch {
    return NaN;
  }
}
