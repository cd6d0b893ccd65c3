import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createEgressProxy, type EgressProxy } from "./proxy.js";

function call(socketPath: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ socketPath, method, path, headers: { "content-type": "application/json", ...headers } }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    r.on("error", reject);
    r.end(body);
  });
}

describe("egress proxy, inference route", () => {
  let dir = "";
  let proxy: EgressProxy | null = null;
  afterEach(async () => {
    await proxy?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const start = async (seen: Request[]): Promise<string> => {
    dir = mkdtempSync(join(tmpdir(), "cloister-proxy-"));
    proxy = createEgressProxy({
      rules: [],
      inference: { fetch: async (req) => (seen.push(req), new Response(JSON.stringify({ ok: true }), { headers: { "content-type": "application/json", "set-cookie": "x=1" } })), baseUrl: "http://node.internal", authorization: "Bearer caller-key", models: ["m"] },
    });
    const sock = join(dir, "s.sock");
    await proxy.listen(sock);
    return sock;
  };

  it("replaces the agent's placeholder key with the caller's credential and passes only safe headers back", async () => {
    const seen: Request[] = [];
    const sock = await start(seen);
    const r = await call(sock, "POST", "/v1/chat/completions", JSON.stringify({ model: "m" }), { authorization: "Bearer cloister-placeholder-key", cookie: "a=b" });
    expect(r.status).toBe(200);
    expect(seen[0]?.headers.get("authorization")).toBe("Bearer caller-key");
    expect(seen[0]?.headers.get("cookie")).toBeNull();
    expect(new URL(seen[0]?.url ?? "").pathname).toBe("/v1/chat/completions");
    expect(proxy?.log.contacted()).toEqual([expect.objectContaining({ host: "inference", connections: 1 })]);
  });
  it("refuses undeclared models, other paths, other methods and plain-HTTP egress", async () => {
    const seen: Request[] = [];
    const sock = await start(seen);
    expect((await call(sock, "POST", "/v1/chat/completions", JSON.stringify({ model: "other" }))).status).toBe(403);
    expect((await call(sock, "POST", "/v1/chat/completions", "not json")).status).toBe(403);
    expect((await call(sock, "GET", "/v1/signature/x")).status).toBe(404);
    expect((await call(sock, "DELETE", "/v1/models")).status).toBe(405);
    expect((await call(sock, "GET", "http://evil.test/x")).status).toBe(403);
    expect(seen).toHaveLength(0);
    expect(proxy?.log.decisions.map((d) => d.reason)).toEqual(["model_not_declared", "model_not_declared", "path_refused", "method_refused", "plain_http_refused"]);
  });
});
