import { describe, expect, it } from "vitest";
import { canonicalAuthority } from "./host.js";

describe("canonicalAuthority", () => {
  it("lower-cases names, drops one trailing dot and maps IDN to punycode", () => {
    expect(canonicalAuthority("API.Example.COM.:443")).toEqual({ ok: true, host: "api.example.com", port: 443, ip: false });
    expect(canonicalAuthority("пример.test:443")).toMatchObject({ ok: true, host: "xn--e1afmkfd.test" });
  });
  it("recognises every IPv4 spelling as the same IP", () => {
    for (const f of ["127.0.0.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.1", "0x7f000001", "017700000001"]) {
      expect(canonicalAuthority(`${f}:80`)).toEqual({ ok: true, host: "127.0.0.1", port: 80, ip: true });
    }
  });
  it("recognises IPv6 and IPv4-mapped forms as IPs", () => {
    expect(canonicalAuthority("[::ffff:127.0.0.1]:443")).toMatchObject({ ok: true, ip: true, host: "::ffff:7f00:1" });
    expect(canonicalAuthority("[::1]:443")).toMatchObject({ ok: true, ip: true, host: "::1" });
  });
  it("refuses NUL, control characters, spaces, userinfo, paths and percent-escapes", () => {
    expect(canonicalAuthority("a.test\u0000.evil.test:443")).toEqual({ ok: false, reason: "control_char" });
    expect(canonicalAuthority("a.test\t:443")).toEqual({ ok: false, reason: "control_char" });
    expect(canonicalAuthority("a.test :443")).toEqual({ ok: false, reason: "control_char" });
    for (const bad of ["evil@a.test:443", "a.test/x:443", "a.test%2f:443", "a.test?:443", "a.test#:443", "a.test\\b:443"]) expect(canonicalAuthority(bad).ok).toBe(false);
  });
  it("requires a port in range", () => {
    expect(canonicalAuthority("a.test")).toEqual({ ok: false, reason: "bad_port" });
    expect(canonicalAuthority("a.test:0").ok).toBe(false);
    expect(canonicalAuthority("a.test:70000").ok).toBe(false);
    expect(canonicalAuthority("a.test", 443)).toMatchObject({ ok: true, port: 443 });
  });
});
