import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { publicUnicastOnly, withAllowedAddresses } from "./address-policy.js";

describe("publicUnicastOnly", () => {
  it("accepts public IPv4 and global IPv6", () => {
    expect(publicUnicastOnly("93.184.216.34")).toEqual({ ok: true });
    expect(publicUnicastOnly("2606:2800:220:1:248:1893:25c8:1946")).toEqual({ ok: true });
  });
  it("refuses loopback, private, CGNAT, link-local/metadata, 0/8, multicast, broadcast", () => {
    for (const a of ["127.0.0.1", "127.9.9.9", "10.0.0.1", "172.16.0.1", "192.168.1.1", "100.64.0.1", "100.100.100.200", "169.254.169.254", "0.0.0.0", "0.1.2.3", "224.0.0.1", "255.255.255.255", "240.0.0.1"]) {
      expect(publicUnicastOnly(a).ok, a).toBe(false);
    }
  });
  it("refuses IPv6 loopback, ULA (fd00:ec2::254), link-local, NAT64, 6to4, Teredo, and judges IPv4-mapped as IPv4", () => {
    for (const a of ["::1", "::", "fd00:ec2::254", "fe80::1", "64:ff9b::7f00:1", "64:ff9b:1::a00:1", "2002:7f00:1::", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "ff02::1"]) {
      expect(publicUnicastOnly(a).ok, a).toBe(false);
    }
    expect(publicUnicastOnly("::ffff:93.184.216.34")).toEqual({ ok: true });
  });
  it("refuses what is not an IP", () => {
    expect(publicUnicastOnly("example.com")).toEqual({ ok: false, reason: "not_an_ip" });
  });
  it("withAllowedAddresses allows exactly the listed test addresses and nothing near them", () => {
    const p = withAllowedAddresses(publicUnicastOnly, ["127.0.0.1"]);
    expect(p("127.0.0.1")).toEqual({ ok: true });
    expect(p("127.0.0.2").ok).toBe(false);
    expect(p("10.0.0.1").ok).toBe(false);
  });
});

describe("ipaddr.js (what we rely on)", () => {
  it("calls ::ffff:127.0.0.1 ipv4Mapped, not loopback (so we unwrap it ourselves)", () => {
    expect(ipaddr.parse("::ffff:127.0.0.1").range()).toBe("ipv4Mapped");
    expect((ipaddr.parse("::ffff:127.0.0.1") as ipaddr.IPv6).toIPv4Address().range()).toBe("loopback");
  });
  it("names the ranges we refuse", () => {
    expect(ipaddr.parse("169.254.169.254").range()).toBe("linkLocal");
    expect(ipaddr.parse("64:ff9b::1").range()).toBe("rfc6052");
    expect(ipaddr.parse("100.64.0.1").range()).toBe("carrierGradeNat");
  });
});
