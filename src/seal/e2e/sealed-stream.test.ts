/**
 * Attacks on sealedStream (src/seal/e2e/response.ts): a pulled ReadableStream that seals
 * each source chunk when its reader asks. Fail closed: a cut or failed stream must never
 * end with a final frame, errors must reach the reader, a cancel must reach the source,
 * and nothing may be read from the source ahead of the reader.
 */
import { hash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SealError } from "../../errors.js";
import { concatBytes, utf8 } from "../../util/bytes.js";
import { FrameOpener, nobleAesGcm, type FrameAead } from "./frames.js";
import { MAX_FRAME_BODY } from "./padding.js";
import { deriveResponseKeys, openBody, randomResponseNonce, sealedStream, type Trailers } from "./response.js";
import { sealCodeOf } from "./test-codes.js";

function keys() {
  return deriveResponseKeys(new Uint8Array(32).fill(7), new Uint8Array(32).fill(1), randomResponseNonce());
}

/** Reads a stream to its end or its error; returns the bytes read and the error, if one. */
async function drain(s: ReadableStream<Uint8Array>): Promise<{ bytes: Uint8Array; chunks: number; error: unknown }> {
  const reader = s.getReader();
  const parts: Uint8Array[] = [];
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
  } catch (error) {
    return { bytes: concatBytes(...parts), chunks: parts.length, error };
  }
  return { bytes: concatBytes(...parts), chunks: parts.length, error: undefined };
}

const codeOf = sealCodeOf;

/** A pull source (highWaterMark 0) that counts how often it was pulled and whether it was cancelled. */
function counted(chunks: readonly (Uint8Array | Error)[]) {
  const state = { pulls: 0, cancelled: undefined as unknown, wasCancelled: false };
  let i = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(ctl) {
        state.pulls++;
        const next = chunks[i++];
        if (next === undefined) ctl.close();
        else if (next instanceof Error) ctl.error(next);
        else ctl.enqueue(next);
      },
      cancel(reason) {
        state.wasCancelled = true;
        state.cancelled = reason;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, state };
}

const ev = (n: number) => utf8.encode(`data: ${n}\n\n`);

describe("sealedStream under attack", () => {
  it("source error mid-way: the reader gets the error, and the bytes it had end without a final frame (E2E_TRUNCATED)", async () => {
    const k = keys();
    const boom = new Error("upstream broke");
    const { stream } = counted([ev(1), ev(2), boom]);
    const trailers = (): Trailers => {
      throw new Error("trailers must not be asked for a broken stream");
    };
    const got = await drain(sealedStream(stream, k, trailers));
    expect(got.error).toBe(boom);
    expect(got.chunks).toBe(2);
    expect(codeOf(() => openBody(k, got.bytes))).toBe("E2E_TRUNCATED");
  });

  it("trailers callback throwing or rejecting: the stream errors with it, no final frame", async () => {
    for (const trailers of [
      (): Trailers => {
        throw new Error("sync");
      },
      (): Promise<Trailers> => Promise.reject(new Error("async")),
    ]) {
      const k = keys();
      const { stream } = counted([ev(1)]);
      const got = await drain(sealedStream(stream, k, trailers));
      expect(String(got.error)).toMatch(/sync|async/);
      expect(codeOf(() => openBody(k, got.bytes))).toBe("E2E_TRUNCATED");
    }
  });

  it("trailers that cannot be serialised (a bigint) error the stream, no final frame", async () => {
    const k = keys();
    const { stream } = counted([ev(1)]);
    const got = await drain(sealedStream(stream, k, () => ({ n: 1n })));
    expect(got.error).toBeInstanceOf(TypeError);
    expect(codeOf(() => openBody(k, got.bytes))).toBe("E2E_TRUNCATED");
  });

  it("client cancel reaches the source with its reason", async () => {
    const { stream, state } = counted([ev(1), ev(2), ev(3)]);
    const sealed = sealedStream(stream, keys(), () => ({}));
    const reader = sealed.getReader();
    await reader.read();
    await reader.cancel("client gone");
    expect(state.wasCancelled).toBe(true);
    expect(state.cancelled).toBe("client gone");
  });

  it("a cancel while a pull waits on the source: the source is cancelled and the trailers are never asked for", async () => {
    let wasCancelled = false;
    const src = new ReadableStream<Uint8Array>(
      {
        pull: () => new Promise<void>(() => {}), // the backend is thinking
        cancel: () => void (wasCancelled = true),
      },
      { highWaterMark: 0 },
    );
    let asked = 0;
    const sealed = sealedStream(src, keys(), () => (asked++, {}));
    const reader = sealed.getReader();
    const pending = reader.read();
    await new Promise((r) => setTimeout(r, 5));
    await reader.cancel("client gone");
    expect(await pending).toEqual({ done: true, value: undefined });
    await new Promise((r) => setTimeout(r, 5));
    expect(wasCancelled).toBe(true);
    // A cancelled exchange is not complete: its trailers (the signature) are not computed.
    expect(asked).toBe(0);
  });

  it("a sealing failure (the AEAD throws) errors the stream AND cancels the source, so the backend stops", async () => {
    let n = 0;
    const flaky: FrameAead = {
      encrypt: (key, nonce, aad, pt) => {
        if (++n === 2) throw new Error("aead failed");
        return nobleAesGcm.encrypt(key, nonce, aad, pt);
      },
      decrypt: nobleAesGcm.decrypt,
    };
    const k = keys();
    const { stream, state } = counted([ev(1), ev(2), ev(3)]);
    const got = await drain(sealedStream(stream, k, () => ({}), flaky));
    expect(String(got.error)).toMatch(/aead failed/);
    expect(codeOf(() => openBody(k, got.bytes))).toBe("E2E_TRUNCATED");
    expect(state.wasCancelled).toBe(true);
  });

  it("a chunk that is not bytes errors the stream (nothing unsealed goes out) and cancels the source", async () => {
    const k = keys();
    const { stream, state } = counted([ev(1), "data: plain\n\n" as unknown as Uint8Array, ev(3)]);
    const got = await drain(sealedStream(stream, k, () => ({})));
    expect(got.error).toBeDefined();
    expect(utf8.decode(got.bytes)).not.toContain("plain");
    expect(codeOf(() => openBody(k, got.bytes))).toBe("E2E_TRUNCATED");
    expect(state.wasCancelled).toBe(true);
  });

  it("a source that ends at once: exactly one frame, the final one with the trailers", async () => {
    const k = keys();
    const { stream } = counted([]);
    const got = await drain(sealedStream(stream, k, () => ({ signature: "s" })));
    expect(got.error).toBeUndefined();
    expect(got.chunks).toBe(1);
    const o = openBody(k, got.bytes);
    expect(o.body.length).toBe(0);
    expect(o.trailers).toEqual({ signature: "s" });
  });

  it("empty chunks make no frame and do not end the stream; each read still yields one frame", async () => {
    const k = keys();
    const empty = new Uint8Array(0);
    const { stream } = counted([empty, ev(1), empty, empty, ev(2), empty]);
    const got = await drain(sealedStream(stream, k, () => ({})));
    expect(got.error).toBeUndefined();
    expect(got.chunks).toBe(3);
    expect(utf8.decode(openBody(k, got.bytes).body)).toBe("data: 1\n\ndata: 2\n\n");
  });

  it("a chunk over MAX_FRAME_BODY is split over several frames and reassembles exactly", async () => {
    const k = keys();
    const big = new Uint8Array(MAX_FRAME_BODY + 1000);
    for (let i = 0; i < big.length; i += 4093) big[i] = i & 0xff;
    const { stream } = counted([ev(0), big, ev(1)]);
    const got = await drain(sealedStream(stream, k, () => ({ ok: true })));
    expect(got.error).toBeUndefined();
    const o = new FrameOpener(k);
    const frames = o.push(got.bytes);
    o.end();
    expect(frames.map((f) => f.final)).toEqual([false, false, false, false, true]);
    const want = concatBytes(ev(0), big, ev(1));
    const have = concatBytes(...frames.slice(0, 4).map((f) => f.plaintext));
    // Compared by digest: a diff of 16 MiB arrays would exhaust the heap.
    expect(hash("sha256", have, "hex")).toBe(hash("sha256", want, "hex"));
  });

  it("many tiny chunks: one frame each, in order, then the final frame", async () => {
    const k = keys();
    const chunks = Array.from({ length: 5000 }, (_, i) => utf8.encode(String.fromCharCode(97 + (i % 26))));
    const { stream } = counted(chunks);
    const got = await drain(sealedStream(stream, k, () => ({})));
    expect(got.chunks).toBe(chunks.length + 1);
    expect(utf8.decode(openBody(k, got.bytes).body)).toBe(chunks.map((c) => utf8.decode(c)).join(""));
  });

  it("reads nothing ahead: the source is pulled only when the reader reads", async () => {
    const { stream, state } = counted([ev(1), ev(2), ev(3), ev(4)]);
    const sealed = sealedStream(stream, keys(), () => ({}));
    await new Promise((r) => setTimeout(r, 5));
    expect(state.pulls).toBe(0);
    const reader = sealed.getReader();
    await new Promise((r) => setTimeout(r, 5));
    expect(state.pulls).toBe(0);
    for (let read = 1; read <= 4; read++) {
      await reader.read();
      await new Promise((r) => setTimeout(r, 5));
      expect(state.pulls).toBe(read);
    }
    // The fifth read sees the end: the final frame.
    expect((await reader.read()).done).toBe(false);
    expect(state.pulls).toBe(5);
    expect((await reader.read()).done).toBe(true);
  });
});
