import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EndHold } from "./end-hold.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const STREAM = 'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n';

function run(parts: string[]): { early: string; late: string } {
  const h = new EndHold();
  let early = "";
  for (const p of parts) early += dec.decode(h.push(enc.encode(p)));
  return { early, late: dec.decode(h.release()) };
}

describe("EndHold", () => {
  it("passes events on at once and holds back [DONE] until released", () => {
    const { early, late } = run([STREAM]);
    expect(early).toBe('data: {"a":1}\n\ndata: {"b":2}\n\n');
    expect(late).toBe("data: [DONE]\n\n");
  });

  it("holds [DONE] however the bytes are split, and loses or reorders nothing", () => {
    fc.assert(
      fc.property(fc.array(fc.nat(STREAM.length), { maxLength: 8 }), (cuts) => {
        const at = [...new Set(cuts)].sort((a, b) => a - b);
        const parts = [0, ...at].map((c, i) => STREAM.slice(c, at[i] ?? STREAM.length));
        const { early, late } = run(parts);
        expect(early + late).toBe(STREAM);
        expect(early).not.toContain("[DONE]");
      }),
    );
  });

  it("knows the spaceless form and CRLF line ends", () => {
    expect(run(["data: {}\r\n\r\ndata:[DONE]\r\n\r\n"]).early).toBe("data: {}\r\n\r\n");
  });

  it("holds a last line that never ended", () => {
    expect(run(["data: {}\n\ndata: {\"half"])).toEqual({ early: "data: {}\n\n", late: 'data: {"half' });
  });
});
