/**
 * The node's HPKE suite (./hpke-node.ts) against the Web Crypto suite every client uses
 * (../seal/e2e/suite.ts): the same bytes at each primitive and end to end, and the same
 * refusals. What we rely on from @hpke/common (Dhkem and XCurveDhkemPrimitives taking a
 * curve and a KDF) and from OpenSSL (X25519 refusing low-order points) is declared here,
 * so an upgrade that changes either fails CI.
 */
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
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

const u8 = (b: ArrayBuffer): Uint8Array => new Uint8Array(b);
/** Web Crypto at every step (e2eSuite() takes noble's HKDF for its key schedule): the reference both are held to. */
const webOnly = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
const aad = requestAad({ method: "POST", route: "/v1/chat/completions", model: "m", stream: false, keyId: "k", time: 1 });
const text = new TextEncoder();

const codeOf = async (p: Promise<unknown>): Promise<string> => (await sealCodeOfAsync(p)) ?? "opened";

describe("the node's HPKE suite", () => {
  it("X25519 by OpenSSL gives noble's public keys and shared secrets", () => {
    for (let i = 0; i < 32; i++) {
      const a = x25519.utils.randomSecretKey();
      const b = x25519.utils.randomSecretKey();
      expect(nodeX25519.getPublicKey(a)).toEqual(x25519.getPublicKey(a));
      expect(nodeX25519.getSharedSecret(a, x25519.getPublicKey(b))).toEqual(x25519.getSharedSecret(a, x25519.getPublicKey(b)));
    }
  });

  it("X25519 refuses low-order points (RFC 7748 §6.1: an all-zero secret), as noble does", () => {
    const a = x25519.utils.randomSecretKey();
    const zero = new Uint8Array(32);
    const one = new Uint8Array(32);
    one[0] = 1;
    // A point of order 8 (RFC 7748's list, as used by libsodium's blocklist).
    const order8 = Uint8Array.from(Buffer.from("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", "hex"));
    for (const p of [zero, one, order8]) {
      expect(() => x25519.getSharedSecret(a, p)).toThrow();
      expect(() => nodeX25519.getSharedSecret(a, p)).toThrow();
    }
  });

  it("noble's HKDF gives Web Crypto's bytes for extract, expand and both, and refuses what it refuses", async () => {
    const web = new HkdfSha256();
    const noble = new NobleHkdfSha256();
    const suiteId = Uint8Array.from([0x48, 0x50, 0x4b, 0x45, 0, 0x20, 0, 1, 0, 2]);
    web.init(suiteId);
    noble.init(suiteId);
    for (const salt of [new Uint8Array(0), randomBytes(32)]) {
      const ikm = randomBytes(45);
      expect(u8(await noble.extract(salt, ikm))).toEqual(u8(await web.extract(salt, ikm)));
      for (const len of [12, 32, 64, 100]) {
        const info = randomBytes(len % 50);
        expect(u8(await noble.extractAndExpand(salt, ikm, info, len))).toEqual(u8(await web.extractAndExpand(salt, ikm, info, len)));
        const prk = await web.extract(salt, ikm);
        expect(u8(await noble.expand(prk, info, len))).toEqual(u8(await web.expand(prk, info, len)));
      }
    }
    // The labeled forms are @hpke's own, on top of these.
    const prk = await web.labeledExtract(new Uint8Array(0), text.encode("secret"), randomBytes(32));
    expect(u8(await noble.labeledExpand(prk, text.encode("key"), text.encode("ctx"), 32))).toEqual(u8(await web.labeledExpand(prk, text.encode("key"), text.encode("ctx"), 32)));
    await expect(noble.extract(randomBytes(16), randomBytes(32))).rejects.toThrow(/salt length/);
    await expect(web.extract(randomBytes(16), randomBytes(32))).rejects.toThrow(/salt length/);
    await expect(noble.expand(randomBytes(32), new Uint8Array(0), 255 * 32 + 1)).rejects.toThrow();
  });

  it("opens what a client sealed with Web Crypto alone, or with the client's suite: the same body, credential, permit and response secret", async () => {
    const node = generateE2EKeyPair();
    const nodeKey = await importE2EPrivateKey(node.privateKey, nodeE2ESuite());
    const webKey = await importE2EPrivateKey(node.privateKey, webOnly);
    const clientKey = await importE2EPrivateKey(node.privateKey);
    for (let i = 0; i < 8; i++) {
      const body = randomBytes(1 + i * 300);
      for (const sealer of [webOnly, e2eSuite()]) {
        const s = await sealRequest(node.publicKey, body, aad, text.encode(`Bearer sk-${i}`), text.encode(`permit-${i}`), sealer);
        const fast = await openRequest(nodeKey, s.enc, s.ciphertext, aad, s.credential, s.permit, nodeE2ESuite());
        const slow = await openRequest(webKey, s.enc, s.ciphertext, aad, s.credential, s.permit, webOnly);
        const client = await openRequest(clientKey, s.enc, s.ciphertext, aad, s.credential, s.permit);
        expect(fast).toEqual(slow);
        expect(client).toEqual(slow);
        expect(fast.plaintext).toEqual(new Uint8Array(body));
        expect(fast.responseSecret).toEqual(s.responseSecret);
      }
    }
  });

  it("what the node suite seals, the Web Crypto suite opens (the AEAD's seal and the KEM's encap, both ways)", async () => {
    const node = generateE2EKeyPair();
    const fast = nodeE2ESuite();
    const web = webOnly;
    const ctx = await fast.createSenderContext({ recipientPublicKey: await fast.kem.deserializePublicKey(node.publicKey.slice().buffer), info: E2E_INFO });
    const ct = await ctx.seal(text.encode("hello").buffer, aad.slice().buffer);
    const rc = await web.createRecipientContext({ recipientKey: await web.kem.importKey("raw", node.privateKey.slice().buffer, false), enc: ctx.enc, info: E2E_INFO });
    expect(new TextDecoder().decode(await rc.open(ct, aad.slice().buffer))).toBe("hello");
  });

  it("refuses as the Web Crypto suite does: altered bytes, another aad, another key, a low-order enc", async () => {
    const node = generateE2EKeyPair();
    const other = generateE2EKeyPair();
    const key = await importE2EPrivateKey(node.privateKey, nodeE2ESuite());
    const otherKey = await importE2EPrivateKey(other.privateKey, nodeE2ESuite());
    const s = await sealRequest(node.publicKey, text.encode('{"model":"m"}'), aad, text.encode("Bearer sk-1"));
    const flipped = s.ciphertext.slice();
    flipped[3] = (flipped[3] ?? 0) ^ 1;
    const badCred = (s.credential ?? new Uint8Array(0)).slice();
    badCred[0] = (badCred[0] ?? 0) ^ 1;
    const otherAad = requestAad({ method: "POST", route: "/v1/completions", model: "m", stream: false, keyId: "k", time: 1 });
    const open = (k: CryptoKey, enc: Uint8Array, ct: Uint8Array, a: Uint8Array, cred: Uint8Array | null) => codeOf(openRequest(k, enc, ct, a, cred, null, nodeE2ESuite()));
    expect(await open(key, s.enc, flipped, aad, s.credential)).toBe("E2E_DECRYPT_FAILED");
    expect(await open(key, s.enc, s.ciphertext, aad, badCred)).toBe("E2E_DECRYPT_FAILED");
    expect(await open(key, s.enc, s.ciphertext, otherAad, s.credential)).toBe("E2E_DECRYPT_FAILED");
    expect(await open(otherKey, s.enc, s.ciphertext, aad, s.credential)).toBe("E2E_DECRYPT_FAILED");
    expect(await open(key, new Uint8Array(32), s.ciphertext, aad, s.credential)).toBe("E2E_MALFORMED");
    expect(await codeOf(openRequest(await importE2EPrivateKey(node.privateKey, webOnly), new Uint8Array(32), s.ciphertext, aad, s.credential, null, webOnly))).toBe("E2E_MALFORMED");
    expect(await open(key, s.enc, s.ciphertext, aad, s.credential)).toBe("opened");
  });
});
