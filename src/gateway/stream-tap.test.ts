import { describe, expect, it } from "vitest";
import { bufferedBody, bufferedResponse, headerOf, isEventStream, withBufferedHeaders } from "./stream-tap.js";

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
