import { describe, expect, it } from "vitest";
import { bufferedBody, bufferedResponse, headerOf, isEventStream, tapStream, withBufferedHeaders } from "./stream-tap.js";

const bytes = new TextEncoder().encode('{"ok":true}');

describe("buffered responses' header record", () => {
  it("keeps a header another layer set in place on res.headers when headers are added later", async () => {
    const res = bufferedResponse(bytes, { headers: { "content-type": "application/json" } });
    // What CORS or a deps.middleware.outer plugin does after next().
    res.headers.set("x-plugin", "1");
    expect(headerOf(res, "x-plugin")).toBe("1");
    const next = withBufferedHeaders(res, { "x-cloister-signature": "sig" });
    expect(next).not.toBeNull();
    expect(next!.headers.get("x-plugin")).toBe("1");
    expect(next!.headers.get("x-cloister-signature")).toBe("sig");
    expect(bufferedBody(next!)).toBe(bytes);
    expect(await next!.text()).toBe('{"ok":true}');
  });

  it("sees a header deleted in place as gone", () => {
    const res = bufferedResponse(bytes, { headers: { "content-type": "text/event-stream", "x-gone": "1" } });
    res.headers.delete("x-gone");
    res.headers.set("content-type", "application/json");
    expect(isEventStream(res)).toBe(false);
    expect(withBufferedHeaders(res, {})!.headers.get("x-gone")).toBeNull();
  });

  it("lowercases names, so a mixed-case name is found and never sent twice", () => {
    const res = bufferedResponse(bytes, { headers: { "Content-Type": "text/event-stream", "X-Cloister-Signature": "old" } });
    expect(headerOf(res, "content-type")).toBe("text/event-stream");
    expect(headerOf(res, "Content-Type")).toBe("text/event-stream");
    const next = withBufferedHeaders(res, { "x-cloister-signature": "new" })!;
    // Two record entries differing in case would be joined: "old, new".
    expect(next.headers.get("x-cloister-signature")).toBe("new");
  });

  it("is an instance of the Response in use", () => {
    const res = bufferedResponse(bytes, { status: 201, headers: {} });
    expect(res).toBeInstanceOf(Response);
    expect(res.status).toBe(201);
  });
});

describe("a tapped stream whose source fails", () => {
  // One event, then the source fails (as an upstream body cut by the node's time limit).
  const failing = () => {
    let pulls = 0;
    return new ReadableStream<Uint8Array>(
      {
        pull(ctrl) {
          if (pulls++ === 0) ctrl.enqueue(new TextEncoder().encode("data: 1\n\n"));
          else ctrl.error(new Error("upstream cut"));
        },
      },
      { highWaterMark: 0 },
    );
  };

  it("ends with the bytes a hook recovers with: every hook sees them, end hooks run, no abort", async () => {
    const seen: string[] = [];
    const calls: string[] = [];
    const dec = new TextDecoder();
    let body = tapStream(failing(), { recover: () => new TextEncoder().encode("data: {\"error\":1}\n\n"), end: () => void calls.push("end 1"), abort: () => void calls.push("abort 1") });
    body = tapStream(body, { chunk: (b) => void seen.push(dec.decode(b)), end: () => void calls.push("end 2"), abort: () => void calls.push("abort 2") });
    expect(await new Response(body).text()).toBe('data: 1\n\ndata: {"error":1}\n\n');
    expect(seen).toEqual(["data: 1\n\n", 'data: {"error":1}\n\n']);
    expect(calls).toEqual(["end 1", "end 2"]);
  });

  it("fails, aborting every hook, when no hook recovers", async () => {
    const calls: string[] = [];
    const body = tapStream(failing(), { recover: () => null, abort: () => void calls.push("abort"), end: () => void calls.push("end") });
    await expect(new Response(body).text()).rejects.toThrow();
    expect(calls).toEqual(["abort"]);
  });
});
