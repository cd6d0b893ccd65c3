/**
 * The node's HPKE suite (./hpke-node.ts) attacked, against the Web Crypto suite every
 * client uses (../seal/e2e/suite.ts) and noble: hostile encapsulated keys, hostile AEAD
 * inputs, the KDF at its edges and with views into shared memory, the key caches, and
 * many opens at once.
 */
import { Aes256Gcm, HkdfSha256, type RecipientContext } from "@hpke/core";
import { x25519 } from "@noble/curves/ed25519.js";
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SealError } from "../errors.js";
import { requestAad } from "../seal/e2e/aad.js";
import { NobleHkdfSha256 } from "../seal/e2e/noble-hkdf.js";
import { importE2EPrivateKey, openRequest, sealRequest } from "../seal/e2e/request.js";
import { E2E_INFO, e2eSuite, generateE2EKeyPair } from "../seal/e2e/suite.js";
import { nodeE2ESuite, nodeX25519 } from "./hpke-node.js";
import { sealCodeOfAsync } from "../seal/e2e/test-codes.js";

const P = 2n ** 255n - 19n;
const le = (n: bigint): Uint8Array => {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
};
const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"));
const withTopBit = (u: Uint8Array): Uint8Array => {
  const v = u.slice();
  v[31] = (v[31] ?? 0) | 0x80;
  return v;
};
// A copy that owns its ArrayBuffer (a Buffer's own .slice() is a view into the pool, not a copy).
const ab = (u: Uint8Array): ArrayBuffer => new Uint8Array(u).buffer;
const u8 = (b: ArrayBuffer): Uint8Array => new Uint8Array(b);
const aad = requestAad({ method: "POST", route: "/v1/chat/completions", model: "m", stream: false, keyId: "k", time: 1 });
const text = new TextEncoder();

/** RFC 7748 / libsodium's blocklist: the points of small order and their non-canonical encodings. */
const ORDER8_A = hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
const ORDER8_B = hex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157");
const LOW_ORDER: readonly Uint8Array[] = [le(0n), le(1n), le(P - 1n), ORDER8_A, ORDER8_B, le(P), le(P + 1n)];

async function outcome<T>(p: Promise<T> | (() => T)): Promise<{ ok: true; v: T } | { ok: false }> {
  try {
    return { ok: true, v: typeof p === "function" ? p() : await p };
  } catch {
    return { ok: false };
  }
}

const codeOf = async (p: Promise<unknown>): Promise<string> => (await sealCodeOfAsync(p)) ?? "opened";

describe("hostile X25519 encapsulated keys: the node suite, Web Crypto's and noble agree", () => {
  const node = generateE2EKeyPair();
  const hostile: Uint8Array[] = [];
  for (const p of LOW_ORDER) hostile.push(p, withTopBit(p));
  // Every non-canonical encoding (u + p < 2^255 for u < 19), with and without the top bit.
  for (let k = 0n; k < 19n; k++) hostile.push(le(P + k), withTopBit(le(P + k)));
  hostile.push(new Uint8Array(32).fill(0xff), new Uint8Array(32).fill(0x7f), new Uint8Array(32).fill(0x80));
  // Real points with the top bit set (RFC 7748 §5: masked), and random strings (points on the twist too).
  for (let i = 0; i < 8; i++) {
    const pk = x25519.getPublicKey(x25519.utils.randomSecretKey());
    hostile.push(pk, withTopBit(pk), Uint8Array.from(randomBytes(32)));
  }

  it("the same accept/refuse and the same DH for every such u, at the curve", async () => {
    const rows: string[] = [];
    for (const u of hostile) {
      const n = await outcome(() => nodeX25519.getSharedSecret(node.privateKey, u));
      const nb = await outcome(() => x25519.getSharedSecret(node.privateKey, u));
      if (n.ok !== nb.ok || (n.ok && nb.ok && Buffer.compare(n.v, nb.v) !== 0)) rows.push(Buffer.from(u).toString("hex"));
    }
    expect(rows).toEqual([]);
  });

  it("the same accept/refuse and the same shared secret for every such enc, at the KEM (decap), and openRequest says E2E_MALFORMED for each low-order one", async () => {
    const fast = nodeE2ESuite();
    const web = e2eSuite();
    const fastKey = await fast.kem.importKey("raw", ab(node.privateKey), false);
    const webKey = await web.kem.importKey("raw", ab(node.privateKey), false);
    const mismatches: string[] = [];
    let refused = 0;
    for (const enc of hostile) {
      const a = await outcome(fast.kem.decap({ enc: ab(enc), recipientKey: fastKey }));
      const b = await outcome(web.kem.decap({ enc: ab(enc), recipientKey: webKey }));
      const c = await outcome(() => x25519.getSharedSecret(node.privateKey, enc));
      if (!a.ok) refused++;
      if (a.ok !== b.ok || a.ok !== c.ok || (a.ok && b.ok && Buffer.compare(u8(a.v), u8(b.v)) !== 0)) mismatches.push(Buffer.from(enc).toString("hex"));
    }
    expect(mismatches).toEqual([]);
    // 7 low-order points × (plain, top bit) + p and p+1 among the 19 non-canonical × 2: all refused.
    expect(refused).toBe(LOW_ORDER.length * 2 + 4);
    const s = await sealRequest(node.publicKey, text.encode("{}"), aad);
    for (const p of LOW_ORDER) {
      expect(await codeOf(openRequest(fastKey as CryptoKey, p, s.ciphertext, aad, null, null, fast))).toBe("E2E_MALFORMED");
      expect(await codeOf(openRequest(fastKey as CryptoKey, withTopBit(p), s.ciphertext, aad, null, null, fast))).toBe("E2E_MALFORMED");
    }
  });

  it("a real enc with its top bit flipped: the same DH, but another kem_context, so the body does not open (both suites)", async () => {
    const s = await sealRequest(node.publicKey, text.encode("{}"), aad);
    const flipped = s.enc.slice();
    flipped[31] = (flipped[31] ?? 0) ^ 0x80;
    expect(nodeX25519.getSharedSecret(node.privateKey, flipped)).toEqual(nodeX25519.getSharedSecret(node.privateKey, s.enc));
    const fastKey = await importE2EPrivateKey(node.privateKey, nodeE2ESuite());
    expect(await codeOf(openRequest(fastKey, flipped, s.ciphertext, aad, null, null, nodeE2ESuite()))).toBe("E2E_DECRYPT_FAILED");
    expect(await codeOf(openRequest(node.privateKey, flipped, s.ciphertext, aad))).toBe("E2E_DECRYPT_FAILED");
    expect(await codeOf(openRequest(fastKey, s.enc, s.ciphertext, aad, null, null, nodeE2ESuite()))).toBe("opened");
  });

  it("keys of the wrong size and hostile secret keys: refused, or clamped exactly as noble clamps", async () => {
    const pk = x25519.getPublicKey(x25519.utils.randomSecretKey());
    expect(() => nodeX25519.getSharedSecret(node.privateKey, pk.subarray(0, 31))).toThrow();
    expect(() => nodeX25519.getSharedSecret(node.privateKey, new Uint8Array(33))).toThrow();
    expect(() => nodeX25519.getSharedSecret(new Uint8Array(31), pk)).toThrow();
    for (const sk of [new Uint8Array(32), new Uint8Array(32).fill(0xff), le(1n), le(8n), withTopBit(le(0n))]) {
      expect(nodeX25519.getPublicKey(sk)).toEqual(x25519.getPublicKey(sk));
      expect(nodeX25519.getSharedSecret(sk, pk)).toEqual(x25519.getSharedSecret(sk, pk));
    }
    await expect(nodeE2ESuite().kem.importKey("raw", new ArrayBuffer(31), false)).rejects.toThrow();
    await expect(nodeE2ESuite().kem.deserializePublicKey(new ArrayBuffer(33))).rejects.toThrow();
  });
});

describe("the AEAD attacked: the node's AES-256-GCM context against @hpke's Web Crypto one", () => {
  const key = (): Uint8Array => Uint8Array.from(randomBytes(32));
  const contexts = (k: Uint8Array) => ({ fast: nodeE2ESuite().aead.createEncryptionContext(ab(k)), web: new Aes256Gcm().createEncryptionContext(ab(k)) });
  const iv = Uint8Array.from(randomBytes(12));
  const a = text.encode("aad");

  it("every truncation, extension and altered byte of a ciphertext is refused by both; a ciphertext that is only its tag opens to nothing in both", async () => {
    const k = key();
    const { fast, web } = contexts(k);
    for (const pt of [new Uint8Array(0), text.encode("x"), Uint8Array.from(randomBytes(70))]) {
      const ct = u8(await web.seal(ab(iv), ab(pt), ab(a)));
      expect(u8(await fast.seal(ab(iv), ab(pt), ab(a)))).toEqual(ct);
      expect(u8(await fast.open(ab(iv), ab(ct), ab(a)))).toEqual(pt);
      const bad: Uint8Array[] = [];
      for (let n = 0; n < ct.length; n++) bad.push(ct.subarray(0, n)); // truncated: empty, tag cut short, tag only of a longer body
      bad.push(Uint8Array.from([...ct, 0]), Uint8Array.from([0, ...ct])); // a 17-byte "tag", a shifted body
      for (let i = 0; i < ct.length; i++) {
        const f = ct.slice();
        f[i] = (f[i] ?? 0) ^ 0x01;
        bad.push(f);
      }
      // A real tag truncated to 12 or 8 bytes after the body (GCM's shorter tags): refused, never taken as a short tag.
      bad.push(ct.subarray(0, ct.length - 4), ct.subarray(0, ct.length - 8));
      for (const b of bad) {
        const r1 = await outcome(fast.open(ab(iv), ab(b), ab(a)));
        const r2 = await outcome(web.open(ab(iv), ab(b), ab(a)));
        expect([r1.ok, r2.ok]).toEqual([false, false]);
      }
      // Another aad, another nonce, another key: refused.
      expect((await outcome(fast.open(ab(iv), ab(ct), ab(text.encode("aae"))))).ok).toBe(false);
      const iv2 = iv.slice();
      iv2[11] = (iv2[11] ?? 0) ^ 1;
      expect((await outcome(fast.open(ab(iv2), ab(ct), ab(a)))).ok).toBe(false);
      expect((await outcome(contexts(key()).fast.open(ab(iv), ab(ct), ab(a)))).ok).toBe(false);
    }
  });

  it("views with offsets into pooled Buffers are read within the view; the result is an exact ArrayBuffer", async () => {
    const k = key();
    const { fast, web } = contexts(k);
    const pt = Buffer.from("0123456789abcdef-plaintext-in-a-pool");
    const big = Buffer.concat([Buffer.from("HEAD"), iv, Buffer.from("MID"), pt, Buffer.from("TAIL")]);
    const ivView = big.subarray(4, 16);
    const ptView = big.subarray(19, 19 + pt.length);
    const ct = await fast.seal(ivView, ptView, a);
    expect(ct.byteLength).toBe(pt.length + 16);
    expect(u8(ct)).toEqual(u8(await web.seal(ab(iv), ab(pt), ab(a))));
    const ctInPool = Buffer.concat([Buffer.from("xx"), u8(ct), Buffer.from("yy")]).subarray(2, 2 + ct.byteLength);
    const out = await fast.open(ivView, ctInPool, a);
    expect(out.byteLength).toBe(pt.length);
    expect(Buffer.from(out)).toEqual(pt);
  });

  it("the raw key @hpke hands over is zeroed once taken, as @hpke's own context does on first use, and the context still works", async () => {
    const k = key();
    const rawFast = ab(k);
    const rawWeb = ab(k);
    const fast = nodeE2ESuite().aead.createEncryptionContext(rawFast);
    const web = new Aes256Gcm().createEncryptionContext(rawWeb);
    const ct = u8(await web.seal(ab(iv), ab(text.encode("hi")), ab(a)));
    expect(u8(rawWeb)).toEqual(new Uint8Array(32));
    expect(u8(rawFast)).toEqual(new Uint8Array(32));
    expect(u8(await fast.open(ab(iv), ab(ct), ab(a)))).toEqual(text.encode("hi"));
  });

  it("sequence numbers: body, credential, permit are 0, 1, 2; swapped, dropped or replayed messages do not open; a failed open does not advance the sequence (both suites)", async () => {
    const node = generateE2EKeyPair();
    const body = text.encode('{"model":"m"}');
    const s = await sealRequest(node.publicKey, body, aad, text.encode("Bearer sk-1"), text.encode("permit-1"));
    const fastKey = await importE2EPrivateKey(node.privateKey, nodeE2ESuite());
    const webKey = await importE2EPrivateKey(node.privateKey);
    for (const [k, suite] of [
      [fastKey, nodeE2ESuite()],
      [webKey, e2eSuite()],
    ] as const) {
      const open = (ct: Uint8Array, cred: Uint8Array | null, permit: Uint8Array | null) => codeOf(openRequest(k, s.enc, ct, aad, cred, permit, suite));
      expect(await open(s.ciphertext, s.credential, s.permit ?? null)).toBe("opened");
      expect(await open(s.ciphertext, null, s.permit ?? null)).toBe("E2E_DECRYPT_FAILED"); // the permit is sequence 2, not 1
      expect(await open(s.ciphertext, s.permit ?? null, s.credential)).toBe("E2E_DECRYPT_FAILED");
      expect(await open(s.credential!, s.ciphertext, null)).toBe("E2E_DECRYPT_FAILED");
      expect(await open(s.ciphertext, s.credential, s.credential)).toBe("E2E_DECRYPT_FAILED");
      expect(await open(s.ciphertext, s.ciphertext, null)).toBe("E2E_DECRYPT_FAILED");
      // Dropping the trailing permit opens (it is the payment: without it the request is unpaid, not another one).
      expect(await open(s.ciphertext, s.credential, null)).toBe("opened");

      const ctx: RecipientContext = await suite.createRecipientContext({ recipientKey: k, enc: ab(s.enc), info: E2E_INFO });
      expect((await outcome(ctx.open(ab(s.credential!), ab(aad)))).ok).toBe(false); // not sequence 0
      expect(u8(await ctx.open(ab(s.ciphertext), ab(aad)))).toEqual(body); // the failure did not advance it
      expect((await outcome(ctx.open(ab(s.ciphertext), ab(aad)))).ok).toBe(false); // reused context: the body again is refused
    }
  });

  it("what the node suite seals as a sender (several messages), the Web Crypto suite opens in order, and the exports agree", async () => {
    const node = generateE2EKeyPair();
    const fast = nodeE2ESuite();
    const web = e2eSuite();
    const sender = await fast.createSenderContext({ recipientPublicKey: await fast.kem.deserializePublicKey(ab(node.publicKey)), info: E2E_INFO });
    const cts = [];
    for (let i = 0; i < 5; i++) cts.push(await sender.seal(text.encode(`m${i}`), ab(aad)));
    const rc = await web.createRecipientContext({ recipientKey: await web.kem.importKey("raw", ab(node.privateKey), false), enc: sender.enc, info: E2E_INFO });
    for (let i = 0; i < 5; i++) expect(new TextDecoder().decode(await rc.open(cts[i]!, ab(aad)))).toBe(`m${i}`);
    expect(u8(await rc.export(text.encode("x"), 32))).toEqual(u8(await sender.export(text.encode("x"), 32)));
  });
});

describe("the KDF at its edges: noble's HKDF against @hpke's Web Crypto one", () => {
  const suiteId = Uint8Array.from([0x48, 0x50, 0x4b, 0x45, 0, 0x20, 0, 1, 0, 2]);
  const make = () => {
    const web = new HkdfSha256();
    const noble = new NobleHkdfSha256();
    web.init(suiteId);
    noble.init(suiteId);
    return { web, noble };
  };
  /** `bytes` as a view into the middle of a larger Buffer whose other bytes are 0xee. */
  const inPool = (bytes: Uint8Array): Uint8Array => {
    const b = Buffer.concat([Buffer.alloc(7, 0xee), bytes, Buffer.alloc(9, 0xee)]);
    return b.subarray(7, 7 + bytes.length);
  };

  it("extract: salts of every length as Web Crypto (0 and 32 taken, others refused); ArrayBuffers, views and pooled subarrays give the same exact 32 bytes", async () => {
    const { web, noble } = make();
    const ikm = Uint8Array.from(randomBytes(45));
    for (const n of [0, 1, 16, 31, 32, 33, 64]) {
      const salt = Uint8Array.from(randomBytes(n));
      const w = await outcome(web.extract(ab(salt), ab(ikm)));
      for (const [s, i] of [
        [ab(salt), ab(ikm)],
        [salt, ikm],
        [inPool(salt), inPool(ikm)],
      ] as const) {
        const r = await outcome(noble.extract(s, i));
        expect(r.ok).toBe(w.ok);
        if (r.ok && w.ok) {
          expect(r.v.byteLength).toBe(32);
          expect(u8(r.v)).toEqual(u8(w.v));
        }
      }
    }
  });

  it("expand and extractAndExpand: lengths 0 to 255*32 as Web Crypto's, the result exactly that long; past 255*32 refused by both", async () => {
    const { web, noble } = make();
    const prk = Uint8Array.from(randomBytes(32));
    const info = Uint8Array.from(randomBytes(20));
    const ikm = Uint8Array.from(randomBytes(40));
    const salt = Uint8Array.from(randomBytes(32));
    for (const len of [0, 1, 12, 31, 32, 33, 64, 65, 255 * 32]) {
      const w = u8(await web.expand(ab(prk), ab(info), len));
      for (const [p, i] of [
        [ab(prk), ab(info)],
        [inPool(prk), inPool(info)],
      ] as const) {
        const r = await noble.expand(p, i, len);
        expect(r.byteLength).toBe(len);
        expect(u8(r)).toEqual(w);
      }
      const we = await outcome(web.extractAndExpand(ab(salt), ab(ikm), ab(info), len));
      const ne = await noble.extractAndExpand(inPool(salt), inPool(ikm), inPool(info), len);
      expect(ne.byteLength).toBe(len);
      // Web Crypto's deriveBits refuses a length of 0 where RFC 5869 gives an empty OKM; @hpke never asks for one.
      if (we.ok) expect(u8(ne)).toEqual(u8(we.v));
      else expect(len).toBe(0);
    }
    for (const f of [() => web.expand(ab(prk), ab(info), 255 * 32 + 1), () => noble.expand(prk, info, 255 * 32 + 1), () => noble.extractAndExpand(salt, ikm, info, 255 * 32 + 1)]) {
      expect((await outcome(f())).ok).toBe(false);
    }
  });

  it("the inputs are left as they were (a caller's view, a pooled Buffer's neighbours), and a result never aliases one", async () => {
    const { noble } = make();
    const prk = inPool(Uint8Array.from(randomBytes(32)));
    const before = Buffer.from(prk.buffer, 0, prk.buffer.byteLength).toString("hex");
    const out = await noble.extractAndExpand(prk, prk, prk, 32);
    const out2 = await noble.expand(prk, prk, 32);
    const out3 = await noble.extract(prk, prk);
    expect(Buffer.from(prk.buffer, 0, prk.buffer.byteLength).toString("hex")).toBe(before);
    for (const o of [out, out2, out3]) expect(o).not.toBe(prk.buffer);
    u8(out).fill(0);
    expect(Buffer.from(prk.buffer, 0, prk.buffer.byteLength).toString("hex")).toBe(before);
  });
});

describe("the key caches (WeakMaps by the bytes' identity)", () => {
  it("a secret key's bytes changed in place: the public key and DH follow the new bytes, as noble's do (no stale KeyObject, no other key's public key)", () => {
    const a = x25519.utils.randomSecretKey();
    const b = x25519.utils.randomSecretKey();
    const peer = x25519.getPublicKey(x25519.utils.randomSecretKey());
    const sk = a.slice();
    expect(nodeX25519.getPublicKey(sk)).toEqual(x25519.getPublicKey(a));
    expect(nodeX25519.getSharedSecret(sk, peer)).toEqual(x25519.getSharedSecret(a, peer));
    sk.set(b);
    expect(nodeX25519.getPublicKey(sk)).toEqual(x25519.getPublicKey(b));
    expect(nodeX25519.getSharedSecret(sk, peer)).toEqual(x25519.getSharedSecret(b, peer));
    sk.fill(0); // a caller wiping its key: what is left computes as zeros would, not as the old key
    expect(nodeX25519.getSharedSecret(sk, peer)).toEqual(x25519.getSharedSecret(new Uint8Array(32), peer));
  });

  it("the same through @hpke: a key imported from an ArrayBuffer the caller later overwrites", async () => {
    const suite = nodeE2ESuite();
    const a = generateE2EKeyPair();
    const b = generateE2EKeyPair();
    const buf = ab(a.privateKey);
    const sk = await suite.kem.importKey("raw", buf, false);
    expect(u8(await suite.kem.serializePublicKey(await (suite.kem as unknown as { _prim: { derivePublicKey(k: CryptoKey): Promise<CryptoKey> } })._prim.derivePublicKey(sk)))).toEqual(a.publicKey);
    new Uint8Array(buf).set(b.privateKey);
    const s = await sealRequest(b.publicKey, text.encode("{}"), aad);
    // The web suite's key was fixed at import; @hpke/common's X-curve key is a view of the caller's bytes, so it is now b's.
    expect(await codeOf(openRequest(sk, s.enc, s.ciphertext, aad, null, null, suite))).toBe("opened");
  });

  it("what the curve hands out is the caller's: clearing a returned public key does not reach the cache", () => {
    const a = x25519.utils.randomSecretKey();
    const p1 = nodeX25519.getPublicKey(a);
    p1.fill(0);
    expect(nodeX25519.getPublicKey(a)).toEqual(x25519.getPublicKey(a));
    const p2 = nodeX25519.getPublicKey(a);
    expect(p2.byteOffset).toBe(0);
    expect(p2.buffer.byteLength).toBe(32);
  });

  it("a secret key that is a view into a pooled Buffer: only its 32 bytes are read", () => {
    const a = x25519.utils.randomSecretKey();
    const pooled = Buffer.concat([Buffer.alloc(5, 0xaa), a, Buffer.alloc(5, 0xbb)]);
    const sk = pooled.subarray(5, 37);
    expect(nodeX25519.getPublicKey(sk)).toEqual(x25519.getPublicKey(a));
    const pk = Buffer.concat([Buffer.alloc(3, 1), x25519.getPublicKey(a), Buffer.alloc(3, 2)]).subarray(3, 35);
    expect(nodeX25519.getSharedSecret(sk, pk)).toEqual(x25519.getSharedSecret(a, x25519.getPublicKey(a)));
  });
});

describe("many opens at once on one suite", () => {
  it("300 sealed requests to two keys, opened in parallel on the node suite: each opens to its own body, credential, permit and response secret", async () => {
    const keys = [generateE2EKeyPair(), generateE2EKeyPair()];
    const imported = await Promise.all(keys.map((k) => importE2EPrivateKey(k.privateKey, nodeE2ESuite())));
    const sealed = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const k = keys[i % 2]!;
        const body = Uint8Array.from(randomBytes(1 + ((i * 37) % 900)));
        return { i, body, s: await sealRequest(k.publicKey, body, aad, text.encode(`Bearer sk-${i}`), text.encode(`permit-${i}`)) };
      }),
    );
    const opened = await Promise.all(sealed.map(({ i, s }) => openRequest(imported[i % 2]!, s.enc, s.ciphertext, aad, s.credential, s.permit, nodeE2ESuite())));
    for (const { i, body, s } of sealed) {
      const o = opened[i]!;
      expect(o.plaintext).toEqual(body);
      expect(new TextDecoder().decode(o.credential!)).toBe(`Bearer sk-${i}`);
      expect(new TextDecoder().decode(o.permit!)).toBe(`permit-${i}`);
      expect(o.responseSecret).toEqual(s.responseSecret);
    }
    // And each sealed to the other key is refused, in parallel too.
    const crossed = await Promise.all(sealed.slice(0, 40).map(({ i, s }) => codeOf(openRequest(imported[(i + 1) % 2]!, s.enc, s.ciphertext, aad, s.credential, s.permit, nodeE2ESuite()))));
    expect(new Set(crossed)).toEqual(new Set(["E2E_DECRYPT_FAILED"]));
  });

  it("three opens started at once on one context are taken in call order (sequence 0, 1, 2)", async () => {
    const node = generateE2EKeyPair();
    const suite = nodeE2ESuite();
    const s = await sealRequest(node.publicKey, text.encode("b"), aad, text.encode("c"), text.encode("p"));
    const ctx = await suite.createRecipientContext({ recipientKey: await importE2EPrivateKey(node.privateKey, suite), enc: ab(s.enc), info: E2E_INFO });
    const credAad = new Uint8Array([...text.encode("cloister/e2e/v1 credential\n"), ...aad]);
    const permitAad = new Uint8Array([...text.encode("cloister/e2e/v1 permit\n"), ...aad]);
    const out = await Promise.all([ctx.open(ab(s.ciphertext), ab(aad)), ctx.open(ab(s.credential!), ab(credAad)), ctx.open(ab(s.permit!), ab(permitAad))]);
    expect(out.map((b) => new TextDecoder().decode(b))).toEqual(["b", "c", "p"]);
  });
});
