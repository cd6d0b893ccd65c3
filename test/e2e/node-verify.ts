/**
 * Independent checks of a Cloister response signature: secp256k1 from `elliptic` and
 * Keccak-256 from `js-sha3` (neither shares code with @noble, which the node signs with).
 */
import elliptic from "elliptic";
import jsSha3 from "js-sha3";

const ec = new elliptic.ec("secp256k1");

export function personalHash(text: string): string {
  const msg = Buffer.from(text, "utf8");
  return jsSha3.keccak256(Buffer.concat([Buffer.from(`\x19Ethereum Signed Message:\n${msg.length}`, "utf8"), msg]));
}

/** The Ethereum address that made this 65-byte r||s||v signature over `text`. */
export function recoverWithElliptic(text: string, signatureHex: string): string {
  const sig = Buffer.from(signatureHex.replace(/^0x/i, ""), "hex"); // 0x form since protocol 2026-12; bare before
  const r = sig.subarray(0, 32).toString("hex");
  const s = sig.subarray(32, 64).toString("hex");
  const v = (sig[64] ?? 27) - 27;
  const pub = ec.recoverPubKey(Buffer.from(personalHash(text), "hex"), { r, s }, v);
  const uncompressed = Buffer.from(pub.encode("hex", false), "hex");
  return `0x${jsSha3.keccak256(uncompressed.subarray(1)).slice(24)}`;
}

/** ECDSA verification against the report's compressed public key. */
export function verifyWithElliptic(text: string, signatureHex: string, publicKeyHex: string): boolean {
  const sig = Buffer.from(signatureHex.replace(/^0x/i, ""), "hex"); // 0x form since protocol 2026-12; bare before
  const key = ec.keyFromPublic(publicKeyHex, "hex");
  return key.verify(personalHash(text), { r: sig.subarray(0, 32).toString("hex"), s: sig.subarray(32, 64).toString("hex") });
}
