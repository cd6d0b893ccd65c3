/**
 * ECDSA (secp256k1) for the node's response signatures, with the per-signature nonce
 * work done ahead of time. Node-only (node:crypto); src/seal/signing.ts stays the
 * browser-safe, deterministic (RFC 6979) signer everyone else uses.
 *
 * Why: the one expensive step of an ECDSA signature is R = k·G, and k need not depend on
 * the message (FIPS 186-5 §6.3: k and k⁻¹ may be computed in advance, from an approved
 * random source, kept secret and used once). So a worker thread makes "presignatures"
 * (k⁻¹ mod n, r = R.x mod n, the parity of R.y) while the node is idle, and signing a
 * completion on the event loop is one Keccak-256 and three 256-bit multiplications mod n:
 *
 *   s = k⁻¹ · (z + r·d) mod n,  low-s (s > n/2 → n − s, parity flips),  v = 27 + parity
 *
 * exactly the last step of noble's own sign (k2sig), so the output is an ordinary
 * Ethereum personal-message signature (r||s||v) that ethers, viem and recoverAddress()
 * accept; only the nonce is random instead of RFC 6979's HMAC-DRBG.
 *
 * R = k·G is computed by libsecp256k1 (Bitcoin Core's, as WebAssembly: tiny-secp256k1,
 * MIT; its generator multiplication is constant-time with precomputed tables). Measured
 * in one run here: ~200 µs CPU, vs ~650 µs for OpenSSL's generic-curve ladder through
 * createECDH("secp256k1").setPrivateKey(k) and ~880 µs for a whole noble signature
 * (node:crypto cannot sign a prehashed digest at all: crypto.sign hashes again). k comes
 * from the OS CSPRNG (crypto.getRandomValues); a presignature is removed from the queue
 * before it is used, so no k signs twice (two signatures with one k reveal the key).
 * What we rely on from tiny-secp256k1 is declared in ./presign.contract.test.ts.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { pointFromScalar } from "tiny-secp256k1";
import { personalMessageHash } from "../seal/signing.js";

/** One use only: k⁻¹ mod n, r = (k·G).x mod n, and whether (k·G).y is odd. */
export type Presignature = readonly [kinv: bigint, r: bigint, odd: boolean];

const Fn = secp256k1.Point.Fn;
const N = Fn.ORDER;
const HALF_N = N >> 1n;

function bytesToBigint(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex")}`);
}

/** k·G as a 33-byte compressed point (0x02/0x03 || x); k is already checked to be in [1, n−1]. */
function baseMul(k: Uint8Array): Uint8Array {
  const R = pointFromScalar(k, true);
  if (!R || R.length !== 33) throw new RangeError("secp256k1: k·G failed");
  return R;
}

/** A fresh presignature: random k in [1, n−1], R = k·G; retries the (2⁻¹²⁷-likely) k with R.x ≥ n, which Ethereum's v cannot express. */
export function makePresignature(): Presignature {
  const kb = new Uint8Array(32);
  for (;;) {
    crypto.getRandomValues(kb);
    const k = bytesToBigint(kb);
    if (k === 0n || k >= N) continue;
    const R = baseMul(kb);
    kb.fill(0);
    const x = bytesToBigint(R.subarray(1));
    if (x >= N || x === 0n) continue;
    return [Fn.inv(k), x, R[0] === 3];
  }
}

/** The 65-byte r||s||v (v in {27, 28}) over a 32-byte digest; null in the (2⁻²⁵⁶-likely) case s = 0, when the caller takes another presignature. */
export function signDigestPresigned(digest: Uint8Array, secret: bigint, p: Presignature): Uint8Array | null {
  const [kinv, r, odd] = p;
  const z = Fn.create(bytesToBigint(digest));
  let s = Fn.mul(kinv, Fn.add(z, Fn.mul(r, secret)));
  if (s === 0n) return null;
  let parity = odd;
  if (s > HALF_N) {
    s = N - s;
    parity = !parity;
  }
  const out = new Uint8Array(65);
  out.set(Fn.toBytes(r), 0);
  out.set(Fn.toBytes(s), 32);
  out[64] = parity ? 28 : 27;
  return out;
}

/** A source of presignatures; each one it returns is removed from it. */
export type PresignatureSource = () => Presignature;

/** Signs texts as Ethereum personal messages with presignatures; the same output format as createSigner("ecdsa").sign. */
export function presignedSigner(secretKey: Uint8Array, take: PresignatureSource): (text: string) => string {
  const d = bytesToBigint(secretKey);
  if (d === 0n || d >= N) throw new RangeError("invalid secp256k1 secret key");
  return (text) => {
    const digest = personalMessageHash(text);
    for (;;) {
      const sig = signDigestPresigned(digest, d, take());
      if (sig) return `0x${Buffer.from(sig.buffer, sig.byteOffset, sig.length).toString("hex")}`;
    }
  };
}
