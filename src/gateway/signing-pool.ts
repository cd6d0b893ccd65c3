/**
 * The node's response signer (docs/protocol.md "Signatures"), built so that a completion
 * pays for as little as possible of its signature on the event loop:
 *
 *   - ecdsa: a worker thread (./signing-worker.ts) makes presignatures (./presign.ts:
 *     the nonce k, R = k·G, k⁻¹) in batches while the node is idle; signing a completion
 *     takes one from the queue and costs a Keccak-256 and three multiplications mod n,
 *     on the event loop, with no message to a thread and back per request. The queue is
 *     refilled below LOW_WATER; when it runs dry (a burst, or the worker died) the event
 *     loop makes one itself, so a signature is never skipped or delayed for a refill.
 *   - ed25519: OpenSSL's Ed25519 (node:crypto), deterministic RFC 8032, the same bytes
 *     as noble's (./presign.contract.test.ts).
 *
 * The ecdsa signatures are ordinary Ethereum personal-message signatures over the same
 * text, from the same per-boot key as the node's Signers; only the nonce is random
 * rather than RFC 6979's, so two signatures of one text differ (both verify).
 */
import { createPrivateKey, sign as nodeSign, type KeyObject } from "node:crypto";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ed25519 } from "@noble/curves/ed25519.js";
import type { SigningAlgo } from "../seal/signing.js";
import { makePresignature, presignedSigner, type Presignature } from "./presign.js";

export interface SigningPool {
  sign(algo: SigningAlgo, text: string): Promise<string>;
  close(): Promise<void>;
}

export interface PresigningPool extends SigningPool {
  /** Presignatures ready now, and how many signatures had to make their own (for tests and benches). */
  stats(): { readonly ready: number; readonly inline: number };
}

export interface SigningKeys {
  /** The same secret keys the node's Signers were made from (createSigner(algo, key)). */
  readonly ecdsa: Uint8Array;
  readonly ed25519: Uint8Array;
}

export interface SigningPoolOptions {
  /** Presignatures asked of a worker at a time (default 16: short bursts of worker CPU, ~4 ms here, that compete less with the event loop on few cores). */
  readonly batch?: number;
  /** Ask for more when fewer than this are ready or on their way (default 4 batches). */
  readonly lowWater?: number;
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

function ed25519Key(secret: Uint8Array): KeyObject {
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString("base64url");
  return createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: b64(secret), x: b64(ed25519.getPublicKey(secret)) }, format: "jwk" });
}

export function createSigningPool(keys: SigningKeys, size = 1, opts: SigningPoolOptions = {}): PresigningPool {
  const batch = opts.batch ?? 16;
  const lowWater = opts.lowWater ?? 4 * batch;
  const { entry, eval: isEval } = workerEntry();
  // A FIFO of presignatures; `head` moves instead of shifting the array on every take.
  let ready: Presignature[] = [];
  let head = 0;
  let onTheirWay = 0;
  let inline = 0;
  let closed = false;
  let next = 0;
  const alive = new Set<Worker>();

  const refill = (): void => {
    if (closed || alive.size === 0) return;
    while (ready.length - head + onTheirWay < lowWater) {
      const w = [...alive][next++ % alive.size];
      if (!w) return;
      onTheirWay += batch;
      w.postMessage(batch);
    }
  };
  const take = (): Presignature => {
    const p = ready[head];
    if (p === undefined) {
      refill();
      inline++;
      return makePresignature();
    }
    // Gone from the queue before it is used: no presignature signs twice.
    ready[head++] = undefined as unknown as Presignature;
    if (head > 1024 && head * 2 > ready.length) (ready = ready.slice(head)), (head = 0);
    refill();
    return p;
  };

  for (let i = 0; i < Math.max(1, size); i++) {
    const w = new Worker(entry, { eval: isEval });
    // Idle workers must not keep the node alive after its server closed.
    w.unref();
    alive.add(w);
    w.on("message", (made: readonly Presignature[]) => {
      onTheirWay = Math.max(0, onTheirWay - batch);
      if (!closed) for (const p of made) ready.push(p);
    });
    const lost = (): void => {
      if (!alive.delete(w)) return;
      // What it still owed will not come: recount, and let the others (or the event loop) cover it.
      onTheirWay = Math.max(0, onTheirWay - batch);
      refill();
    };
    w.on("error", lost);
    w.on("exit", lost);
  }
  refill();

  const ecdsa = presignedSigner(keys.ecdsa, take);
  const edKey = ed25519Key(keys.ed25519);
  return {
    sign(algo, text) {
      if (closed) return Promise.reject(new Error("the signing pool is closed"));
      try {
        return Promise.resolve(algo === "ecdsa" ? ecdsa(text) : nodeSign(null, Buffer.from(text, "utf8"), edKey).toString("hex"));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error("signing failed"));
      }
    },
    async close() {
      closed = true;
      ready = [];
      head = 0;
      const ws = [...alive];
      alive.clear();
      await Promise.all(ws.map((w) => w.terminate()));
    },
    stats: () => ({ ready: ready.length - head, inline }),
  };
}
