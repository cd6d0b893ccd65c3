import { describe, expect, it } from "vitest";
import { Hono } from "hono";
import { requestAad } from "../seal/e2e/aad.js";
import { E2E_CONTENT_TYPE, E2EHeader, toBase64Url } from "../seal/e2e/headers.js";
import { sealRequest } from "../seal/e2e/request.js";
import { e2eKeyId, generateE2EKeyPair } from "../seal/e2e/suite.js";
import { e2eMiddleware } from "./e2e.js";

describe("sealed-request replay across the ±5 minute window", () => {
  const kp = generateE2EKeyPair();
  let clock = Date.now();
  const app = new Hono();
  // replayCacheSize small only to make sweeping happen; entries inside the window are kept regardless.
  app.use("/v1/chat/completions", e2eMiddleware({ ...kp, required: true, replayCacheSize: 4, now: () => clock }));
  app.post("/v1/chat/completions", (c) => c.json({ ok: true }));
  const seal = async (timeS = Math.floor(clock / 1000), sentTime = String(timeS)) => {
    const meta = { method: "POST", route: "/v1/chat/completions", model: "m", stream: false, keyId: e2eKeyId(kp.publicKey), time: timeS };
    const s = await sealRequest(kp.publicKey, new TextEncoder().encode("{}"), requestAad(meta));
    const headers = { "content-type": E2E_CONTENT_TYPE, [E2EHeader.version]: "v1", [E2EHeader.enc]: toBase64Url(s.enc), [E2EHeader.keyId]: meta.keyId, [E2EHeader.model]: "m", [E2EHeader.stream]: "false", [E2EHeader.time]: sentTime };
    return async () => {
      const r = await app.request("/v1/chat/completions", { method: "POST", headers, body: s.ciphertext.slice() });
      return { status: r.status, code: r.status === 200 ? null : ((await r.json()) as { error: { code: string } }).error.code };
    };
  };

  it("refuses a sealed request replayed after other traffic", async () => {
    const victim = await seal();
    expect((await victim()).status).toBe(200);
    expect(await victim()).toEqual({ status: 400, code: "e2e_replay" });
    for (let i = 0; i < 8; i++) expect((await (await seal())()).status).toBe(200); // the attacker's own traffic
    expect(await victim()).toEqual({ status: 400, code: "e2e_replay" });
    clock += 6 * 60_000; // the victim's time has left the window: refused as stale, and may be forgotten
    for (let i = 0; i < 8; i++) expect((await (await seal())()).status).toBe(200);
    expect(await victim()).toEqual({ status: 400, code: "e2e_stale" });
  });

  it("refuses a client time outside ±5 minutes, and a time header that does not match the sealed one", async () => {
    const now = Math.floor(clock / 1000);
    expect(await (await seal(now - 301))()).toEqual({ status: 400, code: "e2e_stale" });
    expect(await (await seal(now + 301))()).toEqual({ status: 400, code: "e2e_stale" });
    expect(await (await seal(now - 10, String(now - 9)))()).toEqual({ status: 400, code: "e2e_decrypt_failed" });
    expect(await (await seal(now, ""))()).toEqual({ status: 400, code: "e2e_malformed" });
  });
});
