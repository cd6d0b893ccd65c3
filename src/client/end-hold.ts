/**
 * Holds back the end of an SSE stream until it has been verified. `openai` 7.x and
 * LangChain stop reading at `data: [DONE]` (FACTS.md), so a check that runs only when the
 * body ends would never run for them: the caller would take a rewritten token or a cut
 * sealed trailer for a clean end. Everything from the `[DONE]` line on (and any partial
 * last line) is kept here and released only after the signature and the final frame
 * verified; if they do not, the stream errors instead, and every SDK sees the error.
 * Events before `[DONE]` flow as soon as they arrive (whole lines only, which SSE events
 * always are: WHATWG HTML §9.2.6).
 */
const NEWLINE = 0x0a;
const DONE_LINES = new Set(["data: [DONE]", "data:[DONE]"]);

export class EndHold {
  private partial = new Uint8Array(0);
  private readonly held: Uint8Array[] = [];
  private holding = false;
  private readonly decoder = new TextDecoder();

  /** Takes the next bytes; returns what may be passed on now. */
  push(chunk: Uint8Array): Uint8Array {
    if (this.holding) {
      this.held.push(chunk);
      return new Uint8Array(0);
    }
    const buf = concat(this.partial, chunk);
    let start = 0;
    for (let i = buf.indexOf(NEWLINE); i >= 0; i = buf.indexOf(NEWLINE, start)) {
      if (isDone(this.decoder, buf.subarray(start, i))) {
        this.holding = true;
        this.held.push(buf.slice(start));
        this.partial = new Uint8Array(0);
        return buf.subarray(0, start);
      }
      start = i + 1;
    }
    this.partial = buf.slice(start);
    return buf.subarray(0, start);
  }

  /** What was held back; call only once the stream verified. */
  release(): Uint8Array {
    return concat(this.partial, ...this.held);
  }
}

function isDone(decoder: TextDecoder, line: Uint8Array): boolean {
  if (line.length > 16) return false;
  return DONE_LINES.has(decoder.decode(line).replace(/\r$/, ""));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const live = parts.filter((p) => p.length > 0);
  if (live.length === 1) return live[0] as Uint8Array;
  const out = new Uint8Array(live.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of live) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
