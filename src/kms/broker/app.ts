/**
 * The broker's HTTP API (docs/protocol.md, "Key broker"): hono handlers around Broker.
 * Errors are OpenAI-shaped like the node's, `code` the lower-case KmsCode. Bodies are
 * capped (a release request carries a report with a quote: well under 1 MiB).
 */
import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { isCloisterError } from "../../errors.js";
import { KmsCode, KmsError } from "../codes.js";
import type { Broker } from "./broker.js";

const MAX_BODY = 1024 * 1024;

function errorResponse(c: Context, e: unknown): Response {
  const k = e instanceof KmsError ? e : isCloisterError(e) ? new KmsError(KmsCode.KMS_BAD_REQUEST, e.message) : null;
  if (!k) return c.json({ error: { message: "internal error", type: "server_error", param: null, code: "internal" } }, 500);
  const type = k.status >= 500 ? "server_error" : k.status === 403 ? "permission_error" : k.status === 404 ? "not_found_error" : "invalid_request_error";
  return c.json({ error: { message: k.message, type, param: null, code: k.code.toLowerCase(), ...(k.details ? { details: k.details } : {}) } }, k.status as 400);
}

async function json(c: Context): Promise<unknown> {
  try {
    return await c.req.json();
  } catch (cause) {
    throw new KmsError(KmsCode.KMS_BAD_REQUEST, "the body is not JSON", { cause });
  }
}

export function createBrokerApp(broker: Broker): Hono {
  const app = new Hono();
  app.use("*", bodyLimit({ maxSize: MAX_BODY, onError: (c) => c.json({ error: { message: "body too large", type: "invalid_request_error", param: null, code: "body_too_large" } }, 413) }));
  app.onError((e, c) => errorResponse(c, e));
  app.get("/health", (c) => c.json({ ok: true }));
  app.get("/v1/attestation/report", async (c) => {
    const nonce = c.req.query("nonce") ?? "";
    const algo = c.req.query("signing_algo") ?? "ecdsa";
    if (!/^[0-9a-f]{64}$/.test(nonce)) throw new KmsError(KmsCode.KMS_BAD_REQUEST, "nonce must be 64 lower-case hex characters");
    if (algo !== "ecdsa") throw new KmsError(KmsCode.KMS_BAD_REQUEST, "a broker signs with ecdsa only");
    return c.json(await broker.report(Uint8Array.from(Buffer.from(nonce, "hex"))));
  });
  app.post("/v1/kms/shares", async (c) => c.json(await broker.upload(await json(c))));
  app.post("/v1/kms/registrations", async (c) => c.json(await broker.register(await json(c))));
  app.get("/v1/kms/registrations/:model", (c) => c.json(broker.registration(c.req.param("model"))));
  app.post("/v1/kms/challenge", async (c) => c.json(broker.challenge(await json(c))));
  app.post("/v1/kms/release", async (c) => c.json(await broker.release(await json(c))));
  app.get("/v1/kms/log", (c) => c.body(broker.logText(), 200, { "content-type": "application/x-ndjson" }));
  // A key release's leaf in the receipt log, with a checkpoint signed by the attested broker key.
  app.get("/v1/receipts/:id", (c) => {
    const proof = broker.receipts.proof(c.req.param("id"));
    if (!proof) return c.json({ error: { message: "no receipt for this id on this broker (this boot)", type: "not_found_error", param: null, code: "receipt_not_found" } }, 404);
    return c.json({ ...proof, checkpoint_signature: broker.signer.sign(proof.checkpoint), signing_address: broker.signer.address, signing_algo: "ecdsa" });
  });
  app.notFound((c) => c.json({ error: { message: "not found", type: "not_found_error", param: null, code: "not_found" } }, 404));
  return app;
}
