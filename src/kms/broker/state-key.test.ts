import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fakeAgent } from "../../tee/test-dstack-agent.js";
import { KmsCode } from "../codes.js";
import { dstackStateKey, fileStateKey } from "./state-key.js";

describe("broker state key", () => {
  const servers: { close(): void }[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  it("file: made once (mode 0600), the same after a restart, and labelled simulated", () => {
    const p = join(mkdtempSync(join(tmpdir(), "kms-key-")), "state.key");
    const a = fileStateKey(p);
    expect(fileStateKey(p).key.equals(a.key)).toBe(true);
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect(a.simulated).toBe(true);
  });

  it("dstack: derives the state key from the guest agent's GetKey for a fixed path", async () => {
    const agent = await fakeAgent(() => ({ status: 200, body: JSON.stringify({ key: "11".repeat(32), signature_chain: [] }) }));
    servers.push(agent.server);
    const k = await dstackStateKey(agent.socketPath);
    expect(k).toMatchObject({ kind: "dstack", simulated: false });
    expect(k.key.length).toBe(32);
    expect(k.key.equals(Buffer.from("11".repeat(32), "hex"))).toBe(false);
    expect(agent.asked[0]).toMatchObject({ url: "/GetKey" });
    expect(JSON.parse(agent.asked[0]!.body)).toEqual({ path: "cloister/kms/state", purpose: "state-sealing" });
  });

  it("dstack: refuses an answer without a key (KMS_STATE_INVALID)", async () => {
    const agent = await fakeAgent(() => ({ status: 200, body: "{}" }));
    servers.push(agent.server);
    await expect(dstackStateKey(agent.socketPath)).rejects.toMatchObject({ code: KmsCode.KMS_STATE_INVALID });
  });
});
