/**
 * Worker thread of the signing pool (./signing-pool.ts): makes presignatures (the nonce
 * work of an ECDSA signature, ./presign.ts) in batches, off the event loop that serves
 * requests. It holds no signing key: a presignature is useless without the node's key,
 * which only the main thread's signer has.
 */
import { parentPort } from "node:worker_threads";
import { makePresignature, type Presignature } from "./presign.js";

parentPort?.on("message", (count: number) => {
  const out: Presignature[] = [];
  for (let i = 0; i < count; i++) out.push(makePresignature());
  parentPort?.postMessage(out);
});
