import { describe, expect, it } from "vitest";
import { egressAllows, egressRules, manifestHash, parseEgressEntry, parseManifest } from "./manifest.js";

const base = { name: "summarise", version: "1.0.0", entry: "index.ts" };

describe("manifest", () => {
  it("fills defaults and hashes the same whatever the key order", () => {
    const m = parseManifest({ ...base, egress: ["api.example.com"] });
    expect(m.observability).toBe("none");
    expect(m.limits.memoryMb).toBe(256);
    expect(manifestHash(m)).toBe(manifestHash(parseManifest({ egress: ["api.example.com"], entry: "index.ts", version: "1.0.0", name: "summarise" })));
  });
  it("refuses IP addresses, ports out of range, paths out of the directory, unknown fields", () => {
    for (const e of ["127.0.0.1", "2130706433", "[::1]:443", "0x7f.1", "a.test:99999", "http://a.test", "a..test"]) expect(() => parseManifest({ ...base, egress: [e] }), e).toThrow(/egress/);
    expect(() => parseManifest({ ...base, entry: "../x.js" })).toThrow(/entry/);
    expect(() => parseManifest({ ...base, entry: "/etc/x.js" })).toThrow(/entry/);
    expect(() => parseManifest({ ...base, network: "all" })).toThrow(/AGENT_MANIFEST_INVALID|Unrecognized/);
    expect(() => parseManifest({ ...base, limits: { memoryMb: 1e9 } })).toThrow(/limits/);
  });
  it("matches declared host:port exactly, 443 by default, wildcards only below their suffix", () => {
    const rules = egressRules(parseManifest({ ...base, egress: ["api.example.com", "*.cdn.test:8443"] }));
    expect(egressAllows(rules, "api.example.com", 443)).toBe(true);
    expect(egressAllows(rules, "api.example.com", 80)).toBe(false);
    expect(egressAllows(rules, "evil.api.example.com", 443)).toBe(false);
    expect(egressAllows(rules, "a.cdn.test", 8443)).toBe(true);
    expect(egressAllows(rules, "cdn.test", 8443)).toBe(false);
    expect(egressAllows(rules, "evilcdn.test", 8443)).toBe(false);
    expect(parseEgressEntry("API.Example.com:8080")).toEqual({ host: "api.example.com", port: 8080 });
  });
});
