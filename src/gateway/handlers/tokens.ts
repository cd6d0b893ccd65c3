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
import type { GatewayEnv } from "../context.js";

const MAX_REQUEST = 1024;

export function mountTokenIssuer(app: Hono<GatewayEnv>, key: IssuerKey, keyAuth: MiddlewareHandler<GatewayEnv>): void {
  const directory = JSON.stringify(issuerDirectory([key], "/v1/tokens/issue"));
  app.get("/v1/tokens/issuer", () => new Response(directory, { headers: { "content-type": "application/private-token-issuer-directory", "cache-control": "public, max-age=300" } }));
  app.use("/v1/tokens/issue", keyAuth);
  app.post("/v1/tokens/issue", async (c) => {
    if (c.req.header("content-type") !== "application/private-token-request") {
      throw new GatewayError(415, "unsupported_media_type", "send application/private-token-request");
    }
    const body = new Uint8Array(await c.req.arrayBuffer());
    if (body.length > MAX_REQUEST) throw new GatewayError(413, "request_too_large", "a token request is a few hundred bytes");
    try {
      return new Response(issueToken(key, body).slice(), { headers: { "content-type": "application/private-token-response" } });
    } catch (e) {
      throw new GatewayError(400, e instanceof TransparencyError ? e.code : "TOKEN_ISSUE_FAILED", e instanceof Error ? e.message : "bad token request");
    }
  });
}
