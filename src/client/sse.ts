/**
 * Server-sent events (WHATWG HTML §9.2) reduced to what OpenAI streams use: `data:` lines,
 * events split by a blank line, `[DONE]` ends the events.
 *
 * WHY it reads on after `[DONE]`: the body underneath is the verifying stream of
 * response.ts, whose end-of-stream check (signature, E2E final frame) runs only when the
 * body is read to its end. Stopping at `[DONE]` would skip that check, so a proxy could
 * rewrite the text or cut the sealed trailer unnoticed. Errors from it surface here.
 */
export async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buf += decoder.decode(value ?? new Uint8Array(0), { stream: !done }).replace(/\r\n?/g, "\n");
      let end: number;
      while ((end = buf.indexOf("\n\n")) >= 0) {
        const event = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const data = event
          .split("\n")
          .filter((l) => l.startsWith("data:"))
          .map((l) => l.slice(5).replace(/^ /, ""))
          .join("\n");
        if (data === "[DONE]") finished = true;
        else if (data && !finished) yield data;
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
  }
}
