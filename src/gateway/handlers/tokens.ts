/**
 * Privacy Pass issuance on the node (RFC 9578): GET /v1/tokens/issuer is the public
 * directory (this boot's one key, the same for every caller); POST /v1/tokens/issue signs
 * one blinded token request for a caller with an API key — only a real key: a token
 * cannot buy tokens. The issuer never sees the token it signs, so spending it later
 * cannot be tied back to this purchase.
 */
import type { Hono, MiddlewareHandler } from "hono";
import { GatewayError } from "../../errors.js";
import { TransparencyError } from "../../transparency/errors.js";
import { issuerDirectory, issueToken, type IssuerKey } from "../../transparency/tokens/issuer.js";
import { bodyBytes, type GatewayEnv } from "../context.js";
import { bodyLimit } from "../middleware/limits.js";
import { LedgerError } from "../../ledger/errors.js";
import type { TokenSale } from "../../transparency/tokens/escrow-sale.js";
import { parseBuyRequest, receiptJson } from "../../transparency/tokens/purchase-wire.js";

const MAX_REQUEST = 1024;
/** A purchase is at most 100 token requests (~35 KiB of JSON). */
const MAX_PURCHASE = 64 * 1024;

export function mountTokenIssuer(app: Hono<GatewayEnv>, key: IssuerKey, keyAuth: MiddlewareHandler<GatewayEnv>, sale?: TokenSale, sign?: MiddlewareHandler<GatewayEnv>): void {
  // Paid through the escrow: the spend permit is the payment, no API key (./escrow-sale.ts).
  // Opened from E2E like every POST; `sign` signs the answer (a sealed one's signature rides in its trailer).
  if (sale) {
    // Bounded before anything reads it (the signing layer hashes it): no API key is needed here.
    app.use("/v1/tokens/buy", bodyLimit(MAX_PURCHASE));
    if (sign) app.use("/v1/tokens/buy", sign);
    app.post("/v1/tokens/buy", async (c) => {
      // The body as the signing layer hashed it (read once, shared: src/gateway/context.ts).
      const text = new TextDecoder().decode(await bodyBytes(c));
      if (text.length > MAX_PURCHASE) throw new GatewayError(413, "request_too_large", "a purchase is at most 100 token requests");
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new GatewayError(400, "TOKEN_ISSUE_FAILED", "the body is not JSON");
      }
      try {
        const req = parseBuyRequest(value);
        const { responses, receipt } = await sale.sell(req.permit, req.tokenRequests);
        return c.json({ token_responses: responses.map((r) => Buffer.from(r).toString("base64url")), receipt: receiptJson(receipt) });
      } catch (e) {
        if (e instanceof TransparencyError) throw new GatewayError(400, e.code, e.message);
        // The receipt book's refusals (PERMIT_EXHAUSTED, PERMIT_EXPIRED, PERMIT_NOT_FOR_NODE): payment required.
        if (e instanceof LedgerError) throw new GatewayError(402, e.code, e.message);
        throw e;
      }
    });
  }
  const directory = JSON.stringify(issuerDirectory([key], sale ? "/v1/tokens/buy" : "/v1/tokens/issue"));
  app.get("/v1/tokens/issuer", () => new Response(directory, { headers: { "content-type": "application/private-token-issuer-directory", "cache-control": "public, max-age=300" } }));
  // A node that sells tokens through the escrow gives none away for an API key: a market
  // node lets a token stand in for a spend permit, so every token must have been paid for.
  if (sale) return;
  // Bounded like every route's body: read through bodyBytes, it would otherwise be buffered whole.
  // Signed like a purchase: a sealed request (the verifying fetch; the key then never
  // crosses the proxy in the clear) requires its answer's signature in the sealed trailer.
  app.use("/v1/tokens/issue", keyAuth, bodyLimit(MAX_REQUEST), ...(sign ? [sign] : []));
  app.post("/v1/tokens/issue", async (c) => {
    if (c.req.header("content-type") !== "application/private-token-request") {
      throw new GatewayError(415, "unsupported_media_type", "send application/private-token-request");
    }
    const body = await bodyBytes(c);
    if (body.length > MAX_REQUEST) throw new GatewayError(413, "request_too_large", "a token request is a few hundred bytes");
    try {
      return new Response(issueToken(key, body).slice(), { headers: { "content-type": "application/private-token-response" } });
    } catch (e) {
      throw new GatewayError(400, e instanceof TransparencyError ? e.code : "TOKEN_ISSUE_FAILED", e instanceof Error ? e.message : "bad token request");
    }
  });
}
