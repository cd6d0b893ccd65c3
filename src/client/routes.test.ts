import { describe, expect, it } from "vitest";
import { classifyRequest, nodeBase } from "./routes.js";

const at = (baseURL: string, method: string, url: string) => classifyRequest(nodeBase(baseURL), method, new URL(url));

describe("classifyRequest resolves paths against the baseURL", () => {
  it("seals every POST under the base, naming the node's route from the base on", () => {
    expect(at("https://n/v1", "POST", "https://n/v1/chat/completions")).toEqual({ kind: "protected", route: "/v1/chat/completions" });
    expect(at("https://n/v1", "POST", "https://n/v1/responses")).toEqual({ kind: "protected", route: "/v1/responses" });
    expect(at("https://p/openai", "POST", "https://p/openai/chat/completions")).toEqual({ kind: "protected", route: "/v1/chat/completions" });
    expect(at("https://p/v1/tenant/x/v1", "POST", "https://p/v1/tenant/x/v1/embeddings")).toEqual({ kind: "protected", route: "/v1/embeddings" });
    expect(at("https://p/V1/", "POST", "https://p/V1/chat/completions/")).toEqual({ kind: "protected", route: "/v1/chat/completions/" });
  });

  it("lets only the public reads through, and refuses everything else", () => {
    expect(at("https://n/v1", "GET", "https://n/v1/models")).toEqual({ kind: "public", which: "models" });
    expect(at("https://n/v1", "GET", "https://n/v1/attestation/report?nonce=ab")).toEqual({ kind: "public", which: "report" });
    expect(at("https://n/v1", "GET", "https://n/health")).toEqual({ kind: "public", which: "health" });
    for (const [m, u] of [
      ["GET", "https://n/v1/signature/chatcmpl-1"],
      ["GET", "https://n/v1/files"],
      ["DELETE", "https://n/v1/models"],
      ["POST", "https://n/v2/chat/completions"],
      ["POST", "https://n/v1"],
      ["POST", "https://other/v1/chat/completions"],
      ["POST", "http://n/v1/chat/completions"],
    ] as const) {
      expect(at("https://n/v1", m, u).kind).toBe("refused");
    }
  });

  it("refuses a baseURL that is not a plain http(s) URL", () => {
    for (const b of ["ftp://n/v1", "not a url", "https://n/v1?x=1", "https://u:p@n/v1"]) expect(() => nodeBase(b)).toThrow(/baseURL/);
  });
});
