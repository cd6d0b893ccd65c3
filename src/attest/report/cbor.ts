/**
 * A small CBOR decoder (RFC 8949) for dstack's image measurement documents
 * (measurement.tdx.cbor / measurement.snp.cbor): unsigned and negative integers, byte
 * and text strings, arrays, maps with text keys, true/false/null. Definite lengths only,
 * nesting at most 16 deep; anything else is EVIDENCE_UNREADABLE. No dependency needed
 * for this much.
 */
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";

export type Cbor = number | string | boolean | null | Uint8Array | Cbor[] | { [k: string]: Cbor };

const bad = (why: string): never => {
  throw new AttestationError(AttestCode.EVIDENCE_UNREADABLE, `CBOR: ${why}`);
};

export function decodeCbor(bytes: Uint8Array): Cbor {
  let pos = 0;
  const byte = (): number => (pos < bytes.length ? (bytes[pos++] ?? 0) : bad("truncated"));
  const arg = (info: number): number => {
    if (info < 24) return info;
    const n = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : bad(`unsupported length encoding ${info}`);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + byte();
    if (!Number.isSafeInteger(v)) bad("integer too large");
    return v;
  };
  const take = (n: number): Uint8Array => {
    if (n > bytes.length - pos) bad("string runs past the end");
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const item = (depth: number): Cbor => {
    if (depth > 16) bad("nested too deep");
    const b = byte();
    const major = b >> 5;
    const info = b & 31;
    if (major === 7) {
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      return bad(`unsupported simple value ${info}`);
    }
    const n = arg(info);
    switch (major) {
      case 0:
        return n;
      case 1:
        return -1 - n;
      case 2:
        return take(n);
      case 3:
        try {
          return new TextDecoder("utf-8", { fatal: true }).decode(take(n));
        } catch {
          return bad("text is not UTF-8");
        }
      case 4: {
        if (n > bytes.length) bad("array too long");
        return Array.from({ length: n }, () => item(depth + 1));
      }
      case 5: {
        if (n > bytes.length) bad("map too long");
        const out: { [k: string]: Cbor } = {};
        for (let i = 0; i < n; i++) {
          const k = item(depth + 1);
          if (typeof k !== "string") bad("map key is not text");
          Object.defineProperty(out, k as string, { value: item(depth + 1), enumerable: true, writable: true, configurable: true });
        }
        return out;
      }
      default:
        return bad(`unsupported major type ${major}`);
    }
  };
  const v = item(0);
  if (pos !== bytes.length) bad(`${bytes.length - pos} bytes after the item`);
  return v;
}
