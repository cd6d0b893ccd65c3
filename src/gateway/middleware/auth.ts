/**
 * Bearer API keys (`Authorization: Bearer sk-cloister-…`), compared by SHA-256 hash
 * against the store so the node never holds keys in the clear. Revocation by
 * `cloister keys revoke` in another process takes effect on the next request (no cache).
 */
import type { MiddlewareHandler } from "hono";
import { GatewayError } from "../../errors.js";
import { hashApiKey } from "../../store/api-keys.js";
import type { Store } from "../../store/store.js";
import type { GatewayEnv } from "../context.js";
import { GatewayCode } from "../errors.js";
import { TransparencyError } from "../../transparency/errors.js";
import { isTokenAuthorization, type TokenRedeemer } from "../../transparency/tokens/redeemer.js";

export function auth(opts: { store: Store; required: boolean; tokens?: TokenRedeemer }): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    // An anonymous Privacy Pass token instead of a key: spent once, linked to nobody. Also
    // without API keys (--no-auth market node): there the token is the payment (market/payments.ts).
    if (opts.tokens && isTokenAuthorization(header)) {
      try {
        c.set("keyId", `token:${await opts.tokens.redeem(header)}`);
      } catch (e) {
        throw new GatewayError(401, e instanceof TransparencyError ? e.code : "TOKEN_INVALID", e instanceof Error ? e.message : "invalid token");
      }
      return next();
    }
    if (!opts.required) {
      c.set("keyId", null);
      return next();
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    const rec = m?.[1] ? await opts.store.findApiKeyByHash(hashApiKey(m[1])) : null;
    if (!rec || rec.revoked !== null) {
      throw new GatewayError(401, GatewayCode.INVALID_API_KEY, m ? "Incorrect or revoked API key." : "Missing API key: send Authorization: Bearer <key>.");
    }
    c.set("keyId", rec.id);
    return next();
  };
}
