/**
 * Signs response texts on worker threads (./signing-worker.ts) instead of the event loop.
 * Per completion the secp256k1 signature is the largest single CPU cost of the gateway
 * (bench/gateway.bench.ts, docs/notes/node.md): on the event loop it delays every other
 * request; on a worker it runs on another core. The signature still precedes the header
 * or trailer that carries it, so latency is unchanged; throughput is what improves.
 *
 * Requests made in the same microtask checkpoint go to a worker as one message. A worker
 * that fails rejects its pending signs; the signing middleware then signs on the main
 * thread, so a broken pool never costs a response its signature.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { SigningAlgo } from "../seal/signing.js";
import type { SignRequest, SignResult } from "./signing-worker.js";

export interface SigningPool {
  sign(algo: SigningAlgo, text: string): Promise<string>;
  close(): Promise<void>;
}

export interface SigningKeys {
  /** The same secret keys the node's Signers were made from (createSigner(algo, key)). */
  readonly ecdsa: Uint8Array;
  readonly ed25519: Uint8Array;
}

/**
 * The worker's entry: the built .js next to this file; from the .ts sources (tests, tsx)
 * a small eval'd bootstrap registers tsx first, since a worker cannot start on a .ts file.
 */
function workerEntry(): { entry: string | URL; eval: boolean } {
  const js = new URL("./signing-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(js))) return { entry: js, eval: false };
  const ts = new URL("./signing-worker.ts", import.meta.url).href;
  return { entry: `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(ts)}); });`, eval: true };
}

export function createSigningPool(keys: SigningKeys, size = 1): SigningPool {
  const { entry, eval: isEval } = workerEntry();
  const pending = new Map<number, { resolve: (sig: string) => void; reject: (err: Error) => void; worker: number }>();
  const failAll = (worker: number, why: string): void => {
    for (const [id, p] of pending) {
      if (p.worker !== worker) continue;
      pending.delete(id);
      p.reject(new Error(why));
    }
  };
  const workers = Array.from({ length: Math.max(1, size) }, (_, i) => {
    const w = new Worker(entry, { workerData: { ecdsa: keys.ecdsa, ed25519: keys.ed25519 }, eval: isEval });
    // Idle workers must not keep the node alive after its server closed.
    w.unref();
    w.on("message", (out: readonly SignResult[]) => {
      for (const [id, sig] of out) {
        const p = pending.get(id);
        pending.delete(id);
        if (!p) continue;
        if (sig === null) p.reject(new Error("the signing worker could not sign"));
        else p.resolve(sig);
      }
    });
    w.on("error", () => failAll(i, "the signing worker failed"));
    w.on("exit", () => failAll(i, "the signing worker exited"));
    return w;
  });
  let closed = false;
  let seq = 0;
  let next = 0;
  let batch: SignRequest[] = [];
  let batchWorker = 0;
  const send = (): void => {
    const b = batch;
    batch = [];
    workers[batchWorker]?.postMessage(b);
  };
  return {
    sign(algo, text) {
      return new Promise<string>((resolve, reject) => {
        if (closed) return reject(new Error("the signing pool is closed"));
        if (batch.length === 0) {
          batchWorker = next++ % workers.length;
          queueMicrotask(send);
        }
        const id = seq++;
        pending.set(id, { resolve, reject, worker: batchWorker });
        batch.push([id, algo, text]);
      });
    },
    async close() {
      closed = true;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
