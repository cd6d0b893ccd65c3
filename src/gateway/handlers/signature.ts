import type { Handler } from "hono";
import { GatewayError } from "../../errors.js";
import type { Store } from "../../store/store.js";
import type { GatewayEnv } from "../context.js";
import { GatewayCode } from "../errors.js";
import { parseSigningAlgo } from "../middleware/signing.js";

/** GET /v1/signature/:id?signing_algo= — the stored signature, 404 for an unknown id or algo. */
export function signatureHandler(store: Store): Handler<GatewayEnv> {
  return async (c) => {
    const id = c.req.param("id") ?? "";
    const algo = parseSigningAlgo(c.req.query("signing_algo"), "signing_algo");
    const rec = await store.getSignature(id, algo);
    if (!rec) {
      throw new GatewayError(404, GatewayCode.NOT_FOUND, `no ${algo} signature for this id (ids are per completion; the algorithm is chosen at request time with X-Cloister-Signing-Algo)`, { param: "id" });
    }
    return c.json({ text: rec.text, signature: rec.signature, signing_address: rec.address, signing_algo: rec.algo });
  };
}
