/**
 * Canonicalises the authority of a CONNECT (or a Host) before any allowlist check. The
 * WHATWG URL parser is the reference: it maps IDN to punycode (UTS #46) and turns every
 * IPv4 spelling (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) into dotted decimal and
 * IPv6 into its compressed form, so an IP in disguise is recognised as an IP. Names with
 * NUL, control characters, userinfo, paths or percent-escapes are refused outright.
 */
import ipaddr from "ipaddr.js";

export type CanonicalAuthority =
  | { readonly ok: true; readonly host: string; readonly port: number; readonly ip: boolean }
  | { readonly ok: false; readonly reason: HostRefusal };

export type HostRefusal = "control_char" | "malformed" | "bad_port";

// Anything but the characters a host[:port] or [v6]:port may contain.
const ALLOWED = /^[A-Za-z0-9.\-_\[\]:\u0080-\uffff]+$/;

export function canonicalAuthority(authority: string, defaultPort?: number): CanonicalAuthority {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(authority)) return { ok: false, reason: "control_char" };
  if (authority.length === 0 || authority.length > 300 || !ALLOWED.test(authority)) return { ok: false, reason: "malformed" };
  let url: URL;
  try {
    url = new URL(`https://${authority}/`);
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (url.username || url.password || url.pathname !== "/" || url.search || url.hash) return { ok: false, reason: "malformed" };
  const explicitPort = /:(\d+)$/.exec(authority)?.[1];
  const port = explicitPort !== undefined ? Number(explicitPort) : defaultPort;
  if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, reason: "bad_port" };
  let host = url.hostname.toLowerCase();
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host.length === 0) return { ok: false, reason: "malformed" };
  return { ok: true, host, port, ip: ipaddr.isValid(host) };
}
