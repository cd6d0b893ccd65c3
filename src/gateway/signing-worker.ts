/**
 * Worker thread of the signing pool (./signing-pool.ts): holds the node's signing keys
 * and signs batches of texts, so the ECDSA arithmetic (about half a millisecond per
 * completion with @noble here, the largest single cost of a proxied request) runs off
 * the event loop that serves requests. Same keys, same deterministic signatures
 * (RFC 6979 / RFC 8032) as signing on the main thread.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createSigner, type SigningAlgo } from "../seal/signing.js";

export type SignRequest = readonly [id: number, algo: SigningAlgo, text: string];
export type SignResult = readonly [id: number, signature: string | null];

const keys = workerData as { readonly ecdsa: Uint8Array; readonly ed25519: Uint8Array };
const signers = { ecdsa: createSigner("ecdsa", keys.ecdsa), ed25519: createSigner("ed25519", keys.ed25519) };

parentPort?.on("message", (batch: readonly SignRequest[]) => {
  const out: SignResult[] = batch.map(([id, algo, text]) => {
    try {
      return [id, signers[algo].sign(text)];
    } catch {
      return [id, null];
    }
  });
  parentPort?.postMessage(out);
});
