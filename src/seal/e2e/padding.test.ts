import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SealError } from "../../errors.js";
import { utf8 } from "../../util/bytes.js";
import { FrameOpener, FrameSealer, nobleAesGcm, type FrameKeys } from "./frames.js";
import { MAX_FRAME_BODY, MAX_PADDED_PLAINTEXT, pad, paddedLength, unpad } from "./padding.js";
import { openBody, sealBody } from "./response.js";
import { sealCodeOf } from "./test-codes.js";

const keys = (): FrameKeys => ({ key: crypto.getRandomValues(new Uint8Array(32)), baseNonce: crypto.getRandomValues(new Uint8Array(12)) });

const codeOf = sealCodeOf;

/** A frame sealed with a hand-made plaintext: what a buggy or hostile sealer could send. */
function rawFrame(k: FrameKeys, plaintext: Uint8Array, final: boolean): Uint8Array {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, (final ? 0x8000_0000 : 0) + plaintext.length + 16, false);
  const ct = nobleAesGcm.encrypt(k.key, k.baseNonce, h, plaintext);
  const out = new Uint8Array(4 + ct.length);
  out.set(h);
  out.set(ct, 4);
  return out;
}

describe("frame padding", () => {
  it("puts every small frame in a 256-byte bucket and larger ones in power-of-two buckets", () => {
    expect(paddedLength(0)).toBe(256);
    expect(paddedLength(252)).toBe(256);
    expect(paddedLength(253)).toBe(512);
    expect(paddedLength(4092)).toBe(4096);
    expect(paddedLength(4093)).toBe(8192);
    expect(paddedLength(70_000)).toBe(131_072);
    expect(paddedLength(MAX_FRAME_BODY)).toBe(MAX_PADDED_PLAINTEXT);
  });

  it("round-trips any body, and frames of bodies in one bucket have one length on the wire", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9000 }), (body) => {
        const p = pad(body);
        expect(p.length).toBe(paddedLength(body.length));
        expect(unpad(p)).toEqual(body);
      }),
    );
    const s = new FrameSealer(keys());
    expect(new Set(["a", "ultraviolet", "x".repeat(200)].map((w) => s.seal(utf8.encode(w), false).length))).toEqual(new Set([4 + 256 + 16]));
  });

  it("refuses an authenticated frame whose length prefix overruns it or whose padding is not zero", () => {
    const k = keys();
    const long = pad(utf8.encode("hi"));
    new DataView(long.buffer).setUint32(0, 253, false);
    expect(codeOf(() => new FrameOpener(k).push(rawFrame(k, long, true)))).toBe("E2E_MALFORMED");
    const dirty = pad(utf8.encode("hi"));
    dirty[200] = 1;
    expect(codeOf(() => new FrameOpener(k).push(rawFrame(k, dirty, true)))).toBe("E2E_MALFORMED");
    expect(codeOf(() => new FrameOpener(k).push(rawFrame(k, new Uint8Array(3), true)))).toBe("E2E_MALFORMED");
    expect(utf8.decode(new FrameOpener(k).push(rawFrame(k, pad(utf8.encode("hi")), true))[0]!.plaintext)).toBe("hi");
  });

  it("pads the final (trailers) frame too, and splits a body longer than one frame holds", () => {
    const k = keys();
    const sealed = sealBody(k, new Uint8Array(MAX_FRAME_BODY + 10).fill(7), { signature: "s" });
    const opened = openBody(k, sealed);
    expect(opened.body.length).toBe(MAX_FRAME_BODY + 10);
    expect(opened.body.every((b) => b === 7)).toBe(true);
    expect(opened.trailers).toEqual({ signature: "s" });
    // last frame: header + one 256-byte bucket + tag, whatever the trailers' exact length
    const tail = sealBody(k, new Uint8Array(0), { signature: "a much longer signature value".repeat(3) });
    expect(tail.length).toBe(4 + 256 + 16);
  });
});
