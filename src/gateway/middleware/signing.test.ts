import { createHash } from "node:crypto";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { createSigner, verifySignedText } from "../../seal/signing.js";
import { openSqliteStore } from "../../store/sqlite.js";
import type { GatewayEnv } from "../context.js";
import type { SigningPool } from "../signing-pool.js";
import { SIGNATURE_HEADER, signing } from "./signing.js";

const sha = (s: string): string => createHash("sha256").update(s).digest("hex");

type Signers = { ecdsa: ReturnType<typeof createSigner>; ed25519: ReturnType<typeof createSigner> };

function app(makePool: (signers: Signers) => SigningPool) {
  const signers = { ecdsa: createSigner("ecdsa"), ed25519: createSigner("ed25519") };
  const pool = makePool(signers);
  const store = openSqliteStore({ path: ":memory:" });
  const a = new Hono<GatewayEnv>();
  a.use("*", async (c, next) => {
    c.set("requestId", "chatcmpl-test");
    await next();
  });
  a.use("*", signing({ signers, store, pool }));
  a.post("/x", (c) => c.json({ id: "up-1", ok: true }));
  return { a, signers, store };
}

describe("signing middleware with a signing pool", () => {
  it("signs on the pool, and on the main thread when the pool fails, with the same verifiable result", async () => {
    const calls: string[] = [];
    const failing: SigningPool = { sign: async (algo) => (calls.push(algo), Promise.reject(new Error("worker gone"))), close: async () => {} };
    const { a, signers, store } = app(() => failing);
    const res = await a.request("/x", { method: "POST", body: '{"q":1}' });
    const body = await res.text();
    const signed = JSON.parse(res.headers.get(SIGNATURE_HEADER) ?? "null");
    expect(calls).toEqual(["ecdsa"]);
    expect(signed.text).toBe(`${sha('{"q":1}')}:${sha(body)}`);
    expect(signed.signing_address).toBe(signers.ecdsa.address);
    expect(verifySignedText(signed)).toBe(true);
    // Stored under our id and the body's own id.
    expect((await store.getSignature("chatcmpl-test", "ecdsa"))?.signature).toBe(signed.signature);
    expect((await store.getSignature("up-1", "ecdsa"))?.signature).toBe(signed.signature);

    const used: string[] = [];
    const ok = app((own) => ({ sign: async (algo, text) => (used.push(algo), own[algo].sign(text)), close: async () => {} }));
    const res2 = await ok.a.request("/x", { method: "POST", headers: { "x-cloister-signing-algo": "ed25519" }, body: '{"q":2}' });
    await res2.text();
    expect(used).toEqual(["ed25519"]);
    expect(verifySignedText(JSON.parse(res2.headers.get(SIGNATURE_HEADER) ?? "null"))).toBe(true);
  });
});
