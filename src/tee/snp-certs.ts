/**
 * The SEV-SNP certificate table that sev_guest puts in configfs-tsm's auxblob (GHCB spec
 * v2, "SNP Extended Guest Request", certificate table): entries of
 * {GUID (16 bytes, mixed-endian), offset u32 LE, length u32 LE}, ended by an all-zero
 * entry; offsets point at DER certificates within the same blob.
 * Returned as a PEM chain, leaf first: VCEK (or VLEK), ASK (or ASVK), ARK.
 */
import { AttestationError } from "../errors.js";

const GUIDS: Readonly<Record<string, string>> = {
  "63da758d-e664-4564-adc5-f4b93be8accd": "VCEK",
  "a8074bc2-a25a-483e-aae6-39c045a0b8a1": "VLEK",
  "4ab7b379-bbac-4fe4-a02f-05aef327c782": "ASK",
  "c0b406a4-a803-4952-9743-3fb6014cd0ae": "ARK",
};
const ORDER = ["VCEK", "VLEK", "ASK", "ARK"];

function guidString(b: Uint8Array): string {
  const h = (i: number, n: number, le: boolean): string => {
    const s = Array.from(b.subarray(i, i + n), (x) => x.toString(16).padStart(2, "0"));
    return (le ? s.reverse() : s).join("");
  };
  return `${h(0, 4, true)}-${h(4, 2, true)}-${h(6, 2, true)}-${h(8, 2, false)}-${h(10, 6, false)}`;
}

function pem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

export function parseSnpCertTable(blob: Uint8Array): string | null {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const found = new Map<string, Uint8Array>();
  for (let at = 0; at + 24 <= blob.length; at += 24) {
    const guid = blob.subarray(at, at + 16);
    const offset = view.getUint32(at + 16, true);
    const length = view.getUint32(at + 20, true);
    if (guid.every((x) => x === 0) && offset === 0 && length === 0) break;
    if (offset + length > blob.length) throw new AttestationError("EVIDENCE_UNREADABLE", "SNP certificate table points outside the blob");
    const name = GUIDS[guidString(guid)];
    if (name) found.set(name, blob.subarray(offset, offset + length));
  }
  const chain = ORDER.flatMap((n) => (found.has(n) ? [pem(found.get(n) as Uint8Array)] : []));
  return chain.length ? chain.join("") : null;
}
