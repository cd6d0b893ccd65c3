/**
 * EIP-712 typed structured data hashing for flat structs of atomic and string fields
 * (https://eips.ethereum.org/EIPS/eip-712, "Definition of encodeData"): what the
 * contribution receipt and the reward claim need, so an escrow contract can check them
 * with ecrecover. Nested structs and arrays are not supported (not needed).
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { DataError } from "../../errors.js";
import { concatBytes, fromHex, utf8 } from "../../util/bytes.js";

export interface TypedField {
  readonly name: string;
  readonly type: "string" | "bytes32" | "address" | "bool" | "uint256" | "uint64" | "uint32";
}
export type TypedValue = string | bigint | number | boolean;

export function typeString(primaryType: string, fields: readonly TypedField[]): string {
  return `${primaryType}(${fields.map((f) => `${f.type} ${f.name}`).join(",")})`;
}

function word(field: TypedField, value: TypedValue): Uint8Array {
  const out = new Uint8Array(32);
  switch (field.type) {
    case "string":
      return keccak_256(utf8.encode(String(value)));
    case "bytes32": {
      const b = fromHex(String(value).replace(/^0x/, ""));
      if (b.length !== 32) throw new DataError("TYPED_DATA_INVALID", `${field.name} must be 32 bytes`);
      return b;
    }
    case "address": {
      const b = fromHex(String(value).replace(/^0x/, ""));
      if (b.length !== 20) throw new DataError("TYPED_DATA_INVALID", `${field.name} must be a 20-byte address`);
      out.set(b, 12);
      return out;
    }
    case "bool":
      out[31] = value ? 1 : 0;
      return out;
    default: {
      const bits = field.type === "uint256" ? 256n : field.type === "uint64" ? 64n : 32n;
      const n = BigInt(value);
      if (n < 0n || n >= 1n << bits) throw new DataError("TYPED_DATA_INVALID", `${field.name} does not fit ${field.type}`);
      let v = n;
      for (let i = 31; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
      return out;
    }
  }
}

export function hashStruct(primaryType: string, fields: readonly TypedField[], message: Readonly<Record<string, TypedValue>>): Uint8Array {
  const typeHash = keccak_256(utf8.encode(typeString(primaryType, fields)));
  const words = fields.map((f) => {
    const v = message[f.name];
    if (v === undefined) throw new DataError("TYPED_DATA_INVALID", `missing field ${f.name}`);
    return word(f, v);
  });
  return keccak_256(concatBytes(typeHash, ...words));
}

/** keccak256("\x19\x01" || domainSeparator || hashStruct(message)). */
export function typedDataDigest(domainSeparator: Uint8Array, structHash: Uint8Array): Uint8Array {
  return keccak_256(concatBytes(new Uint8Array([0x19, 0x01]), domainSeparator, structHash));
}
