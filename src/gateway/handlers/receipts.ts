/**
 * The receipt log over HTTP: GET /v1/receipts/<request id> gives the exchange's leaf
 * index, salt and inclusion proof against the newest checkpoint, with that checkpoint
 * signed by the node's attested key (either algorithm). Public: it reveals hashes only.
 */
import type { Hono } from "hono";
import { GatewayError } from "../../errors.js";
import type { ReceiptLog } from "../../transparency/receipt-log.js";
import type { SigningAlgo } from "../../seal/signing.js";
import type { GatewayEnv } from "../context.js";
import type { Signers } from "../middleware/signing.js";

export function mountReceipts(app: Hono<GatewayEnv>, log: ReceiptLog, signers: Signers): void {
  app.get("/v1/receipts/:id", (c) => {
    const algo: SigningAlgo = c.req.query("signing_algo") === "ed25519" ? "ed25519" : "ecdsa";
    const proof = log.proof(c.req.param("id"));
    if (!proof) throw new GatewayError(404, "receipt_not_found", "no receipt for this id on this node (this boot)");
    const signer = signers[algo];
    return c.json({ ...proof, checkpoint_signature: signer.sign(proof.checkpoint), signing_address: signer.address, signing_algo: algo });
  });
}
