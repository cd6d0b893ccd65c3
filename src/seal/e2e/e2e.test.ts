import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SealError } from "../../errors.js";
import { concatBytes, utf8 } from "../../util/bytes.js";
import { requestAad, type RequestMeta } from "./aad.js";
import { FrameOpener, FrameSealer } from "./frames.js";
import { innerRequestType } from "./headers.js";
import { openRequest, sealRequest } from "./request.js";
import { deriveResponseKeys, openBody, openingStream, randomResponseNonce, sealBody, sealedStream, type Trailers } from "./response.js";
import { e2eKeyId, generateE2EKeyPair } from "./suite.js";
import { sealCodeOf, sealCodeOfAsync } from "./test-codes.js";

const node = generateE2EKeyPair();
const meta: RequestMeta = { method: "POST", route: "/v1/chat/completions", model: "m", stream: true, keyId: e2eKeyId(node.publicKey), time: 1_767_225_600 };
const body = utf8.encode(JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "secret prompt" }] }));

const codeOf = sealCodeOf;

const codeOfAsync = sealCodeOfAsync;

function keys() {
  return deriveResponseKeys(new Uint8Array(32).fill(7), new Uint8Array(32).fill(1), randomResponseNonce());
}

describe("E2E request envelope (HPKE base mode)", () => {
  it("opens to the same bytes and both sides export the same response secret", async () => {
    const sealed = await sealRequest(node.publicKey, body, requestAad(meta));
    expect(utf8.decode(sealed.ciphertext)).not.toContain("secret prompt");
    const opened = await openRequest(node.privateKey, sealed.enc, sealed.ciphertext, requestAad(meta));
    expect(utf8.decode(opened.plaintext)).toBe(utf8.decode(body));
    expect(opened.responseSecret).toEqual(sealed.responseSecret);
  });

  it("refuses a body replayed to another route, with another stream flag, model or time, or under another key", async () => {
    const sealed = await sealRequest(node.publicKey, body, requestAad(meta));
    for (const other of [{ ...meta, route: "/v1/completions" }, { ...meta, stream: false }, { ...meta, model: "n" }, { ...meta, method: "PUT" }, { ...meta, time: meta.time + 1 }]) {
      expect(await codeOfAsync(openRequest(node.privateKey, sealed.enc, sealed.ciphertext, requestAad(other)))).toBe("E2E_DECRYPT_FAILED");
    }
    const stranger = generateE2EKeyPair();
    expect(await codeOfAsync(openRequest(stranger.privateKey, sealed.enc, sealed.ciphertext, requestAad(meta)))).toBe("E2E_DECRYPT_FAILED");
  });

  it("binds a non-JSON body's media type: sealed with one, it opens only with that one, and the seven-field JSON aad is unchanged", async () => {
    const typed = { ...meta, contentType: "application/private-token-request" };
    expect(utf8.decode(requestAad(meta)).split("\n")).toHaveLength(7);
    expect(utf8.decode(requestAad(typed)).split("\n").at(-1)).toBe("application/private-token-request");
    const sealed = await sealRequest(node.publicKey, body, requestAad(typed));
    await expect(openRequest(node.privateKey, sealed.enc, sealed.ciphertext, requestAad(typed))).resolves.toBeDefined();
    for (const other of [meta, { ...meta, contentType: "application/json" }, { ...meta, contentType: "application/private-token-request " }]) {
      expect(await codeOfAsync(openRequest(node.privateKey, sealed.enc, sealed.ciphertext, requestAad(other)))).toBe("E2E_DECRYPT_FAILED");
    }
  });

  it("names JSON by leaving the media type out, and refuses one no header can carry", () => {
    for (const json of [undefined, null, "", "application/json", "Application/JSON; charset=utf-8"]) expect(innerRequestType(json)).toBeUndefined();
    expect(innerRequestType("application/private-token-request")).toBe("application/private-token-request");
    for (const bad of ["a".repeat(128), "text/plain\r\nx: y", " text/plain", "t\u00e9xt/plain"]) expect(innerRequestType(bad)).toBeNull();
  });

  it("refuses a ciphertext with any single byte flipped", async () => {
    const sealed = await sealRequest(node.publicKey, body, requestAad(meta));
    for (const i of [0, 17, sealed.ciphertext.length - 1]) {
      const ct = sealed.ciphertext.slice();
      ct[i] = (ct[i] ?? 0) ^ 1;
      expect(await codeOfAsync(openRequest(node.privateKey, sealed.enc, ct, requestAad(meta)))).toBe("E2E_DECRYPT_FAILED");
    }
  });

  it("refuses metadata with a line break", () => {
    expect(() => requestAad({ ...meta, model: "a\nb" })).toThrow();
  });

  it("opens a sealed credential only with its own request's context and metadata", async () => {
    const key = utf8.encode("Bearer sk-cloister-secret");
    const a = await sealRequest(node.publicKey, body, requestAad(meta), key);
    const b = await sealRequest(node.publicKey, body, requestAad(meta), key);
    expect(Buffer.from(a.credential ?? []).toString("latin1")).not.toContain("sk-cloister");
    const opened = await openRequest(node.privateKey, a.enc, a.ciphertext, requestAad(meta), a.credential);
    expect(utf8.decode(opened.credential ?? new Uint8Array())).toBe("Bearer sk-cloister-secret");
    // Moved onto another request, or with the route changed, it does not open.
    expect(await codeOfAsync(openRequest(node.privateKey, b.enc, b.ciphertext, requestAad(meta), a.credential))).toBe("E2E_DECRYPT_FAILED");
    expect(await codeOfAsync(openRequest(node.privateKey, a.enc, a.ciphertext, requestAad(meta), flip(a.credential)))).toBe("E2E_DECRYPT_FAILED");
  });
});

describe("E2E response frames", () => {
  it("gives different keys for different response nonces (a replayed request never reuses a key and nonce)", () => {
    const secret = new Uint8Array(32).fill(9);
    const enc = new Uint8Array(32).fill(3);
    expect(deriveResponseKeys(secret, enc, randomResponseNonce()).key).not.toEqual(deriveResponseKeys(secret, enc, randomResponseNonce()).key);
  });

  it("opens a body and its trailers", () => {
    const k = keys();
    const sealed = sealBody(k, utf8.encode("the answer"), { signature: "s" });
    expect(utf8.decode(sealed)).not.toContain("the answer");
    const opened = openBody(k, sealed);
    expect(utf8.decode(opened.body)).toBe("the answer");
    expect(opened.trailers).toEqual({ signature: "s" });
  });

  it("detects a flipped byte, a dropped, reordered or duplicated frame, a cut, and bytes after the end", () => {
    const k = keys();
    const s = new FrameSealer(k);
    const f0 = s.seal(utf8.encode("data: one\n\n"), false);
    const f1 = s.seal(utf8.encode("data: two\n\n"), false);
    const fin = s.seal(utf8.encode("{}"), true);
    const open = (bytes: Uint8Array) => () => openBody(k, bytes);
    const flipped = concatBytes(f0, f1, fin);
    flipped[10] = (flipped[10] ?? 0) ^ 0x80;
    expect(codeOf(open(flipped))).toBe("E2E_DECRYPT_FAILED");
    expect(codeOf(open(concatBytes(f0, fin)))).toBe("E2E_DECRYPT_FAILED");
    expect(codeOf(open(concatBytes(f1, f0, fin)))).toBe("E2E_DECRYPT_FAILED");
    expect(codeOf(open(concatBytes(f0, f0, f1, fin)))).toBe("E2E_DECRYPT_FAILED");
    expect(codeOf(open(concatBytes(f0, f1)))).toBe("E2E_TRUNCATED");
    expect(codeOf(open(concatBytes(f0, f1, fin.subarray(0, fin.length - 1))))).toBe("E2E_TRUNCATED");
    expect(codeOf(open(concatBytes(f0, f1, fin, f0)))).toBe("E2E_MALFORMED");
    // Clearing the final flag changes the authenticated header: it does not turn the trailer into body.
    const unflagged = fin.slice();
    unflagged[0] = (unflagged[0] ?? 0) & 0x7f;
    expect(codeOf(open(concatBytes(f0, f1, unflagged)))).toBe("E2E_DECRYPT_FAILED");
  });

  it("reassembles frames however the network splits the bytes", () => {
    const k = keys();
    const events = ["data: a\n\n", "data: bb\n\n", "data: [DONE]\n\n"];
    const s = new FrameSealer(k);
    const wire = concatBytes(...events.map((e) => s.seal(utf8.encode(e), false)), s.seal(utf8.encode('{"x":1}'), true));
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: wire.length - 1 }), { maxLength: 12 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), wire.length];
        const o = new FrameOpener(k);
        const out: string[] = [];
        for (let i = 0; i + 1 < points.length; i++) for (const f of o.push(wire.subarray(points[i], points[i + 1]))) if (!f.final) out.push(utf8.decode(f.plaintext));
        o.end();
        expect(out.join("")).toBe(events.join(""));
      }),
    );
  });

  it("streams: every chunk is its own frame, trailers arrive at the end, truncation errors the stream", async () => {
    const k = keys();
    const src = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(utf8.encode("data: 1\n\n"));
        c.enqueue(utf8.encode("data: 2\n\n"));
        c.close();
      },
    });
    const sealed = new Uint8Array(await new Response(sealedStream(src, k, () => ({ signature: "late" }))).arrayBuffer());
    let got: Trailers | null = null;
    const plain = await new Response(
      new Response(sealed).body!.pipeThrough(
        openingStream(k, (t) => {
          got = t;
        }),
      ),
    ).text();
    expect(plain).toBe("data: 1\n\ndata: 2\n\n");
    expect(got).toEqual({ signature: "late" });
    const cut = new Response(sealed.subarray(0, sealed.length - 3)).body!.pipeThrough(openingStream(k, () => undefined));
    expect(await codeOfAsync(new Response(cut).text())).toBe("E2E_TRUNCATED");
  });
});

function flip(bytes: Uint8Array | null): Uint8Array {
  const out = (bytes ?? new Uint8Array(1)).slice();
  out[0] = (out[0] ?? 0) ^ 1;
  return out;
}
