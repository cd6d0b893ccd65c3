import { readdirSync } from "node:fs";
import type { JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import { sharedPath } from "../../util/shared.js";
import { parseNrasBody, verifyNrasResponse } from "./nras.js";
import { readShared } from "./test-vectors.js";

const dir = sharedPath("vectors", "nvidia-nras");
const codes = (v: { errors: readonly { code: string }[] }): string[] => v.errors.map((e) => e.code);

interface Run {
  readonly name: string;
  readonly body: unknown;
  readonly jwks: JSONWebKeySet;
  readonly nonce: string;
  readonly iat: number;
}

function loadRuns(): Run[] {
  if (!dir) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".nras.body"))
    .map((f) => {
      const name = f.replace(/\.nras\.body$/, "");
      const body = JSON.parse(readShared("vectors", "nvidia-nras", f) ?? "null") as [[string, string], Record<string, string>];
      const jwks = JSON.parse(readShared("vectors", "nvidia-nras", `${name}.jwks.json`) ?? "{}") as JSONWebKeySet;
      const req = JSON.parse(readShared("vectors", "nvidia-nras", `${name}.nras.json`) ?? "{}") as { req_body_base64: string };
      const nonce = (JSON.parse(Buffer.from(req.req_body_base64, "base64").toString("utf8")) as { nonce: string }).nonce;
      const claims = JSON.parse(Buffer.from(body[0][1].split(".")[1] ?? "", "base64url").toString("utf8")) as { iat: number };
      return { name, body, jwks, nonce, iat: claims.iat };
    });
}

const runs = loadRuns();
const atIat = (r: Run, offset = 60): Date => new Date((r.iat + offset) * 1000);
type Body = [[string, string], Record<string, string>];

describe.skipIf(runs.length === 0)(`NRAS tokens (captured runs)${runs.length ? "" : " (skipped: ../shared missing)"}`, () => {
  it("verifies every run at iat + 60 s: signatures, submods digests, nonce and claims", async () => {
    expect(runs).toHaveLength(3);
    for (const r of runs) {
      const v = await verifyNrasResponse(r.body, { jwks: r.jwks, now: atIat(r), expectedNonce: r.nonce });
      expect(v.errors, r.name).toEqual([]);
      expect(v.checks.some((c) => c.name === "submods" && c.ok)).toBe(true);
    }
  });

  it("records a not-checked 'nonce' line (possible replay) when no request nonce is given, and none when it is", async () => {
    const r = runs[0] as Run;
    const without = await verifyNrasResponse(r.body, { jwks: r.jwks, now: atIat(r) });
    expect(without.errors).toEqual([]);
    const line = without.checks.find((c) => c.name === "nonce");
    expect(line).toMatchObject({ ok: false, skipped: true }); // could not run: never "ok"
    expect(line?.detail).toMatch(/replay/);
    const withNonce = await verifyNrasResponse(r.body, { jwks: r.jwks, now: atIat(r), expectedNonce: r.nonce });
    expect(withNonce.checks.some((c) => c.name === "nonce")).toBe(false);
  });

  it("reports JWT_EXPIRED at today's clock", async () => {
    for (const r of runs) {
      const v = await verifyNrasResponse(r.body, { jwks: r.jwks, now: new Date("2026-11-25T00:00:00Z") });
      expect(new Set(codes(v))).toEqual(new Set(["JWT_EXPIRED"]));
    }
  });

  it("reports JWT_EXPIRED before nbf", async () => {
    const r = runs[0] as Run;
    expect(codes(await verifyNrasResponse(r.body, { jwks: r.jwks, now: atIat(r, -60) }))).toContain("JWT_EXPIRED");
  });

  it("reports JWKS_KEY_NOT_FOUND when the signing key id is not in the JWKS", async () => {
    const r = runs[0] as Run;
    const kid = (JSON.parse(Buffer.from((r.body as Body)[0][1].split(".")[0] ?? "", "base64url").toString("utf8")) as { kid: string }).kid;
    const jwks = { keys: r.jwks.keys.filter((k) => k.kid !== kid) };
    const v = await verifyNrasResponse(r.body, { jwks, now: atIat(r) });
    expect(codes(v)).toContain("JWKS_KEY_NOT_FOUND");
    expect(v.verified).toBe(false);
  });

  it("reports JWT_INVALID for a flipped payload byte", async () => {
    const r = runs[0] as Run;
    const [head, gpus] = r.body as Body;
    const [h, p, s] = head[1].split(".") as [string, string, string];
    const payload = Buffer.from(p, "base64url");
    payload[10] = (payload[10] ?? 0) ^ 0x01;
    const body = [[head[0], `${h}.${payload.toString("base64url")}.${s}`], gpus];
    expect(codes(await verifyNrasResponse(body, { jwks: r.jwks, now: atIat(r) }))).toEqual(["JWT_INVALID"]);
  });

  it("reports JWT_INVALID when device tokens are swapped (submods digests no longer match)", async () => {
    const r = runs.find((x) => Object.keys((x.body as Body)[1]).length > 1) as Run;
    const [head, gpus] = r.body as Body;
    const swapped = { ...gpus, "GPU-0": gpus["GPU-1"] ?? "", "GPU-1": gpus["GPU-0"] ?? "" };
    const v = await verifyNrasResponse([head, swapped], { jwks: r.jwks, now: atIat(r) });
    expect(codes(v)).toEqual(["JWT_INVALID"]);
    expect(v.errors[0]?.message).toMatch(/GPU-0, GPU-1/);
  });

  it("reports GPU_NONCE_MISMATCH for another request nonce", async () => {
    const r = runs[0] as Run;
    const v = await verifyNrasResponse(r.body, { jwks: r.jwks, now: atIat(r), expectedNonce: "00".repeat(32) });
    expect(new Set(codes(v))).toEqual(new Set(["GPU_NONCE_MISMATCH"]));
  });

  it("reports GPU_CLAIM_FAILED when a required claim differs", async () => {
    const r = runs[0] as Run;
    const v = await verifyNrasResponse(r.body, { jwks: r.jwks, now: atIat(r), requiredClaims: { "x-nvidia-gpu-driver-version": "0.0.0" } });
    expect(new Set(codes(v))).toEqual(new Set(["GPU_CLAIM_FAILED"]));
  });
});

describe("NRAS body shape", () => {
  it("rejects anything but [[\"JWT\", token], {device: token}] with JWT_INVALID", async () => {
    expect(() => parseNrasBody({})).toThrow(/NRAS response/);
    expect(() => parseNrasBody([["JWT", "a.b.c"], { "GPU-0": 5 }])).toThrow(/not a string/);
    const v = await verifyNrasResponse("nope", { jwks: { keys: [] }, now: new Date() });
    expect(codes(v)).toEqual(["JWT_INVALID"]);
    expect(v.checks.find((c) => c.name === "nonce")?.skipped).toBe(true);
  });
});
