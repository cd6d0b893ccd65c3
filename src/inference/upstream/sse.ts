/**
 * Server-sent events parser (WHATWG HTML §9.2.6 "Interpreting an event stream"), reduced
 * to what OpenAI-compatible servers send: `data:` fields, events ended by a blank line,
 * comments (`:`) ignored. Yields each event's data as one string.
 */
export async function* parseSse(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.search(/\r\n|\n|\r/)) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
        if (line === "") {
          if (data.length > 0) yield data.join("\n");
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
        }
        // `event:`, `id:`, `retry:` and `:` comments carry nothing OpenAI streams need.
      }
      if (done) {
        if (buffer.startsWith("data:")) data.push(buffer.slice(buffer.startsWith("data: ") ? 6 : 5));
        if (data.length > 0) yield data.join("\n");
        return;
      }
    }
  } finally {
    // Early exit (client gone, consumer stopped): closing the body closes the upstream.
    await reader.cancel().catch(() => undefined);
  }
}
