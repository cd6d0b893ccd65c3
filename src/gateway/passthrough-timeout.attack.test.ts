/**
 * A pass-through stream cut by the node's time limit ends with a request_timeout error
 * event (./passthrough.ts). The upstream's bytes are forwarded as they arrive, so the cut
 * can fall inside an event: the error event must still reach a client's SSE parser as an
 * event of its own, not glued onto the half-sent one (one unparseable event, and the
 * client never learns why the stream stopped).
 */
import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../store/sqlite.js";
import { createGateway } from "./app.js";
import { echoTee, passthroughOnly } from "./test-fakes.js";

const enc = new TextEncoder();

/** An upstream that sends `head`, then nothing, until the request's signal aborts it. */
function stalled(head: string): ReturnType<typeof passthroughOnly> {
  return passthroughOnly(async (_path, _body, signal) => {
    let sent = false;
    return new Response(
      new ReadableStream<Uint8Array>(
        {
          pull(ctrl) {
            if (!sent) {
              sent = true;
              ctrl.enqueue(enc.encode(head));
              return;
            }
            return new Promise<void>((_resolve, reject) => {
              const fail = (): void => reject(signal?.reason instanceof Error ? signal.reason : new DOMException("aborted", "AbortError"));
              if (signal?.aborted) fail();
              else signal?.addEventListener("abort", fail, { once: true });
            });
          },
        },
        { highWaterMark: 0 },
      ),
      { status: 200, headers: { "content-type": "text/event-stream" } },
    );
  });
}

/** Events as an SSE parser (the openai SDK's) sees them: data lines joined by "\n", dispatched at a blank line. */
function sseEvents(text: string): string[] {
  const events: string[] = [];
  let data: string[] = [];
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line === "") {
      if (data.length > 0) events.push(data.join("\n"));
      data = [];
    } else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  return events;
}

const CHUNK = 'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"a"}}]}';

describe("a pass-through stream the node's time limit cuts", () => {
  it.each([
    ["on an event boundary", `${CHUNK}\n\n`],
    ["between an event's two newlines", `${CHUNK}\n`],
    ["inside a data line", `${CHUNK}\n\n${CHUNK.slice(0, 40)}`],
    ["with CRLF line ends, inside an event", `${CHUNK}\r\n\r\n${CHUNK}\r\n`],
  ])("%s: the last event the client parses is the request_timeout error", async (name, head) => {
    const app = createGateway({ backend: stalled(head), tee: echoTee, store: openSqliteStore({ path: ":memory:" }), authRequired: false, limits: { requestTimeoutMs: 100 } });
    const res = await app.request("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "hi" }] }) });
    const events = sseEvents(await res.text());
    const last = JSON.parse(events.at(-1) ?? "null") as { error?: { code?: string } } | null;
    expect(last?.error?.code).toBe("request_timeout");
    // The whole events sent before it still parse; a half-sent one is its own event, not glued to the error.
    expect(JSON.parse(events[0] ?? "null")).toMatchObject({ object: "chat.completion.chunk" });
    if (name.includes("inside a data line")) expect(events.at(-2)).toBe(CHUNK.slice(6, 40));
  });
});
