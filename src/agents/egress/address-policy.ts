/**
 * Which dialled addresses the egress proxy accepts. The proxy resolves names itself and
 * checks every answer here before dialling the checked address (never the name again),
 * so DNS rebinding and IPs in disguise end at the same gate. Default: public unicast
 * only — no loopback, RFC 1918, CGNAT, link-local (cloud metadata 169.254.169.254),
 * 0/8, multicast, reserved, ULA (fd00:ec2::254), NAT64 (64:ff9b::/96, RFC 6052 and
 * RFC 8215), 6to4/Teredo (they embed IPv4), and IPv4-mapped IPv6 is judged as its IPv4.
 *
 * Tests need one "external" upstream on 127.0.0.1: `withAllowedAddresses` adds exact
 * addresses to a policy; production code never calls it.
 */
import ipaddr from "ipaddr.js";

export type AddressVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };
export type AddressPolicy = (address: string) => AddressVerdict;

export const publicUnicastOnly: AddressPolicy = (address) => {
  if (!ipaddr.isValid(address)) return { ok: false, reason: "not_an_ip" };
  let ip = ipaddr.parse(address);
  if (ip.kind() === "ipv6") {
    const v6 = ip as ipaddr.IPv6;
    // ipaddr.js calls ::ffff:127.0.0.1 "ipv4Mapped", not loopback: judge the IPv4 inside.
    if (v6.isIPv4MappedAddress()) ip = v6.toIPv4Address();
  }
  const range = ip.range();
  if (range !== "unicast") return { ok: false, reason: `address_${range}` };
  if (ip.kind() === "ipv6") {
    // Global unicast is 2000::/3 (RFC 4291 §2.4); ipaddr.js's "unicast" is only "none of the named ranges".
    const first = (ip as ipaddr.IPv6).parts[0] ?? 0;
    if ((first & 0xe000) !== 0x2000) return { ok: false, reason: "address_not_global" };
  }
  return { ok: true };
};

export function withAllowedAddresses(base: AddressPolicy, allowed: readonly string[]): AddressPolicy {
  const set = new Set(allowed.map((a) => ipaddr.parse(a).toNormalizedString()));
  return (address) => (ipaddr.isValid(address) && set.has(ipaddr.parse(address).toNormalizedString()) ? { ok: true } : base(address));
}
