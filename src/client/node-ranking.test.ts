import { describe, expect, it } from "vitest";
import { retryAfterMs } from "./discovering-fetch.js";
import { endpointBaseURL } from "./node-ranking.js";

describe("registered endpoints as base URLs", () => {
  it.each([
    ["https://node.example", "https://node.example/v1"],
    ["https://node.example:8443/", "https://node.example:8443/v1"],
    ["https://node.example/tenant/v1", "https://node.example/tenant/v1"],
    ["http://127.0.0.1:9000", "http://127.0.0.1:9000/v1"],
    ["http://localhost:9000", "http://localhost:9000/v1"],
  ])("%s → %s", (endpoint, base) => {
    expect(endpointBaseURL(endpoint)).toBe(base);
  });

  it.each(["http://node.example", "https://node.example/?x=1", "https://u:p@node.example", "https://node.example/#f", "javascript:alert(1)", "ftp://node.example", "not a url"])("refuses %s", (endpoint) => {
    expect(endpointBaseURL(endpoint)).toBeNull();
  });

  it("accepts plain http off loopback only when told to", () => {
    expect(endpointBaseURL("http://10.0.0.5:80", true)).toBe("http://10.0.0.5/v1");
  });
});

describe("Retry-After", () => {
  const at = (v?: string) => new Response(null, { status: 503, ...(v !== undefined ? { headers: { "retry-after": v } } : {}) });
  const now = Date.parse("2026-01-01T00:00:00Z");
  it("reads seconds and HTTP dates, caps at 10 minutes, ignores garbage", () => {
    expect(retryAfterMs(at("7"), now)).toBe(7000);
    expect(retryAfterMs(at("Thu, 01 Jan 2026 00:00:30 GMT"), now)).toBe(30_000);
    expect(retryAfterMs(at("86400"), now)).toBe(600_000);
    expect(retryAfterMs(at("Wed, 31 Dec 2025 00:00:00 GMT"), now)).toBe(0);
    expect(retryAfterMs(at("soon"), now)).toBeNull();
    expect(retryAfterMs(at(), now)).toBeNull();
  });
});
