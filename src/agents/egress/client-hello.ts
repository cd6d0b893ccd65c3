/**
 * Reads the server_name of a TLS ClientHello (RFC 8446 §4.1.2, RFC 6066 §3) from the
 * first bytes the agent sends through a CONNECT tunnel, so the proxy can insist that the
 * name the agent's TLS stack asks for is the very host it was allowed to reach (a
 * tunnel to an allowed name on a shared front must not carry SNI for another).
 * ECH (draft-ietf-tls-esni) hides the real name: a ClientHello carrying it is refused.
 */
export type HelloParse =
  | { readonly state: "need_more" }
  | { readonly state: "not_tls" }
  | { readonly state: "ok"; readonly sni: string | null; readonly ech: boolean };

const MAX_RECORD = 16384 + 5;

export function parseClientHello(buf: Uint8Array): HelloParse {
  if (buf.length < 5) return buf.length > 0 && buf[0] !== 0x16 ? { state: "not_tls" } : { state: "need_more" };
  if (buf[0] !== 0x16 || buf[1] !== 0x03) return { state: "not_tls" };
  const recLen = ((buf[3] ?? 0) << 8) | (buf[4] ?? 0);
  if (recLen + 5 > MAX_RECORD || recLen < 4) return { state: "not_tls" };
  if (buf.length < 5 + recLen) return { state: "need_more" };
  const b = buf.subarray(5, 5 + recLen);
  let p = 0;
  const u8 = (): number => {
    if (p + 1 > b.length) throw new RangeError("short");
    return b[p++] ?? 0;
  };
  const u16 = (): number => (u8() << 8) | u8();
  const skip = (n: number): void => {
    if (p + n > b.length) throw new RangeError("short");
    p += n;
  };
  try {
    if (u8() !== 0x01) return { state: "not_tls" }; // handshake type client_hello
    const hsLen = (u8() << 16) | u16();
    // A ClientHello split over two records is legal but unusual; we refuse rather than reassemble.
    if (hsLen + 4 > b.length) return { state: "not_tls" };
    skip(2 + 32); // legacy_version, random
    skip(u8()); // legacy_session_id
    skip(u16()); // cipher_suites
    skip(u8()); // legacy_compression_methods
    if (p === 4 + hsLen) return { state: "ok", sni: null, ech: false };
    const extEnd = p + 2 + u16();
    let sni: string | null = null;
    let ech = false;
    while (p < extEnd) {
      const type = u16();
      const len = u16();
      const start = p;
      if (type === 0x0000) {
        const listEnd = p + 2 + u16();
        while (p < listEnd) {
          const nameType = u8();
          const nameLen = u16();
          if (p + nameLen > b.length) return { state: "not_tls" };
          const name = Buffer.from(b.subarray(p, p + nameLen)).toString("latin1");
          p += nameLen;
          if (nameType === 0) {
            if (sni !== null) return { state: "not_tls" }; // two host names: ambiguous
            sni = name;
          }
        }
      } else if (type === 0xfe0d) {
        ech = true;
      }
      p = start;
      skip(len);
    }
    return { state: "ok", sni, ech };
  } catch {
    return { state: "not_tls" };
  }
}
