import { describe, expect, it } from "vitest";
import { parseSse } from "./sse.js";

function streamOf(parts: readonly string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const p of parts) c.enqueue(enc.encode(p));
      c.close();
    },
  });
}

async function all(parts: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const d of parseSse(streamOf(parts))) out.push(d);
  return out;
}

describe("parseSse", () => {
  it("joins events split across network chunks, in any line-ending style", async () => {
    expect(await all(['data: {"a":', "1}\r\n\r\nda", "ta: [DONE]\n\n"])).toEqual(['{"a":1}', "[DONE]"]);
  });

  it("joins multi-line data with newlines and ignores comments and other fields", async () => {
    expect(await all([": keep-alive\n", "event: x\nid: 3\ndata: one\ndata:two\n\n"])).toEqual(["one\ntwo"]);
  });

  it("yields a final event that lacks the trailing blank line", async () => {
    expect(await all(["data: last"])).toEqual(["last"]);
  });

  it("keeps a UTF-8 character split between chunks intact", async () => {
    const bytes = new TextEncoder().encode("data: né\n\n");
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(bytes.slice(0, 8));
        c.enqueue(bytes.slice(8));
        c.close();
      },
    });
    const out: string[] = [];
    for await (const d of parseSse(body)) out.push(d);
    expect(out).toEqual(["né"]);
  });
});
