import type { Handler } from "hono";
import { GatewayError } from "../../errors.js";
import type { Store } from "../../store/store.js";
import type { GatewayEnv } from "../context.js";
import { GatewayCode } from "../errors.js";
import { parseSigningAlgo } from "../middleware/signing.js";

/**
 * GET /v1/signature/:id?signing_algo= — the stored signature, 404 for an unknown id or algo.
 * `id` is our completion id or, for a passthrough body, the upstream's own id in it.
 *
 * The text holds sha256(request):sha256(response) of the PLAINTEXT, which lets anyone who
 * can guess a prompt confirm it; so with API keys on, only the key that made the request
 * may read it, and another key's id answers the same 404 as an unknown one (ids don't
 * leak). With --no-auth (keyId null) every caller is the same anonymous user: open.
 */
export function signatureHandler(store: Store): Handler<GatewayEnv> {
  return async (c) => {
    const id = c.req.param("id") ?? "";
    const algo = parseSigningAlgo(c.req.query("signing_algo"), "signing_algo");
    const keyId = c.get("keyId");
    // By our id or by the upstream's (an alias of the same row); the row records the key
    // that made the request, and an alias never names another key's row (src/store).
    const rec = await store.getSignature(id, algo);
    if (!rec || (keyId !== null && rec.keyId !== keyId)) {
      throw new GatewayError(404, GatewayCode.NOT_FOUND, `no ${algo} signature for this id (ids are per completion; the algorithm is chosen at request time with X-Cloister-Signing-Algo)`, { param: "id" });
    }
    return c.json({ text: rec.text, signature: rec.signature, signing_address: rec.address, signing_algo: rec.algo });
  };
}
