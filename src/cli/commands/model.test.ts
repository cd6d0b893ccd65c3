import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, statSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../main.js";
import type { CliIO } from "../io.js";

async function cli(args: string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { out: (t) => void out.push(t), err: (t) => void err.push(t), env: { HOME: cwd }, cwd };
  return { code: await main(args, io), out: out.join("\n"), err: err.join("\n") };
}

describe("cloister model", () => {
  it("seal writes the sealed file and a 0600 data key; inspect shows the header without the key and flags a wrong length", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cloister-model-cli-"));
    const plain = randomBytes(300_000);
    writeFileSync(join(dir, "m.gguf"), plain);
    const sealed = await cli(["model", "seal", "m.gguf", "--out", "m.sealed", "--chunk-size", "65536"], dir);
    expect(sealed.code).toBe(0);
    const info = JSON.parse(sealed.out) as { header: { model_id: string; plaintext_size: number; chunk_size: number } };
    expect(info.header).toMatchObject({ model_id: "m", plaintext_size: plain.length, chunk_size: 65536 });
    expect(statSync(join(dir, "m.sealed.key")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, "m.sealed")).includes(plain.subarray(0, 64))).toBe(false);

    const inspected = await cli(["model", "inspect", "m.sealed"], dir);
    expect(inspected.code).toBe(0);
    expect(JSON.parse(inspected.out)).toMatchObject({ header: { model_id: "m" }, authenticated: false });
    appendFileSync(join(dir, "m.sealed"), "extra");
    expect((await cli(["model", "inspect", "m.sealed"], dir)).code).toBe(1);

    expect((await cli(["model", "seal", "m.gguf", "--out", "m.sealed"], dir)).err).toContain("SEALED_IO");
  });

  it("register refuses to sign without a policy (no default: the owner decides who gets the key)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cloister-model-cli-"));
    writeFileSync(join(dir, "m.gguf"), randomBytes(1000));
    expect((await cli(["model", "seal", "m.gguf", "--out", "m.sealed"], dir)).code).toBe(0);
    expect((await cli(["model", "keygen", "--out", "owner.key"], dir)).code).toBe(0);
    const r = await cli(["model", "register", "--sealed", "m.sealed", "--owner-key", "owner.key", "--out", "reg.json"], dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--policy");
  });
});
