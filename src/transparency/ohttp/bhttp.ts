/**
 * Known-length binary HTTP requests (RFC 9292 §3.1). bhttp-js decodes these (and
 * encodes responses) for us, but its request encoder drops the query string
 * (bhttp.test.ts pins that), and our attestation URL carries the client's nonce there.
 */
import { concatBytes, utf8 } from "../../util/bytes.js";

/** QUIC variable-length integer (RFC 9000 §16). */
function varint(n: number): Uint8Array {
  if (n < 0x40) return new Uint8Array([n]);
  if (n < 0x4000) return new Uint8Array([0x40 | (n >> 8), n & 0xff]);
  if (n < 0x40000000) return new Uint8Array([0x80 | (n >>> 24), (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
  throw new RangeError("binary HTTP field too large");
}

function lengthPrefixed(bytes: Uint8Array): Uint8Array {
  return concatBytes(varint(bytes.length), bytes);
}

export async function encodeBinaryRequest(req: Request): Promise<Uint8Array> {
  const url = new URL(req.url);
  const fields: Uint8Array[] = [];
  req.headers.forEach((value, name) => fields.push(lengthPrefixed(utf8.encode(name.toLowerCase())), lengthPrefixed(utf8.encode(value))));
  const headerSection = concatBytes(...fields);
  const content = new Uint8Array(await req.arrayBuffer());
  return concatBytes(
    varint(0), // known-length request
    lengthPrefixed(utf8.encode(req.method)),
    lengthPrefixed(utf8.encode(url.protocol.replace(/:$/, ""))),
    lengthPrefixed(utf8.encode(url.host)),
    lengthPrefixed(utf8.encode(`${url.pathname}${url.search}`)),
    lengthPrefixed(headerSection),
    lengthPrefixed(content),
    varint(0), // no trailers
  );
}
