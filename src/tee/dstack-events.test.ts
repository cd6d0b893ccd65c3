import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { afterAll, describe, expect, it } from "vitest";
import { toHex, utf8 } from "../util/bytes.js";
import { createDstackProvider } from "./dstack.js";
import { fakeAgent, type Asked } from "./test-dstack-agent.js";

describe("dstack guest agent app events (EmitEvent -> RTMR3)", () => {
  const servers: Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  it("POSTs /EmitEvent with the event name and the payload as hex, exactly as the dstack SDK does", async () => {
    const agent = await fakeAgent(() => ({ status: 200, body: "{}" }));
    servers.push(agent.server);
    const payload = sha256(utf8.encode('{"app":"cloister"}'));
    await createDstackProvider({ socketPath: agent.socketPath }).extendAppEvent?.("cloister-app-manifest", payload);
    expect(agent.asked).toHaveLength(1);
    const a = agent.asked[0] as Asked;
    expect(a.method).toBe("POST");
    expect(a.url).toBe("/EmitEvent");
    expect(a.headers["content-type"]).toBe("application/json");
    expect(a.body).toBe(JSON.stringify({ event: "cloister-app-manifest", payload: toHex(payload) }));
  });

  it("accepts an empty 200 reply (prpc Empty)", async () => {
    const agent = await fakeAgent(() => ({ status: 200, body: "" }));
    servers.push(agent.server);
    await expect(createDstackProvider({ socketPath: agent.socketPath }).extendAppEvent?.("e", new Uint8Array([1]))).resolves.toBeUndefined();
  });

  it("reports an agent's refusal as APP_EVENT_REJECTED with its reason (in the body, or by status)", async () => {
    const inBody = await fakeAgent(() => ({ status: 200, body: JSON.stringify({ error: "runtime events are system-owned" }) }));
    const byStatus = await fakeAgent(() => ({ status: 400, body: JSON.stringify({ error: "event name too long" }) }));
    const noRoute = await fakeAgent(() => ({ status: 404, body: "Not Found" }));
    servers.push(inBody.server, byStatus.server, noRoute.server);
    await expect(createDstackProvider({ socketPath: inBody.socketPath }).extendAppEvent?.("e", new Uint8Array(1))).rejects.toMatchObject({
      name: "AttestationError",
      code: "APP_EVENT_REJECTED",
      message: expect.stringMatching(/system-owned/),
    });
    await expect(createDstackProvider({ socketPath: byStatus.socketPath }).extendAppEvent?.("e", new Uint8Array(1))).rejects.toMatchObject({ code: "APP_EVENT_REJECTED", message: expect.stringMatching(/too long/) });
    await expect(createDstackProvider({ socketPath: noRoute.socketPath }).extendAppEvent?.("e", new Uint8Array(1))).rejects.toMatchObject({ code: "APP_EVENT_REJECTED", message: expect.stringMatching(/no EmitEvent/) });
  });

  it("refuses an empty event name without calling the agent, and a dead socket is TEE_UNAVAILABLE", async () => {
    const agent = await fakeAgent(() => ({ status: 200, body: "{}" }));
    servers.push(agent.server);
    await expect(createDstackProvider({ socketPath: agent.socketPath }).extendAppEvent?.("", new Uint8Array(1))).rejects.toMatchObject({ code: "QUOTE_REQUEST_INVALID" });
    expect(agent.asked).toHaveLength(0);
    await expect(createDstackProvider({ socketPath: join(tmpdir(), "no-such-dstack.sock") }).extendAppEvent?.("e", new Uint8Array(1))).rejects.toMatchObject({ code: "TEE_UNAVAILABLE" });
  });

  it("GetQuote surfaces an error body instead of 'lacks a quote'", async () => {
    const agent = await fakeAgent(() => ({ status: 200, body: JSON.stringify({ error: "TDX not available" }) }));
    servers.push(agent.server);
    await expect(createDstackProvider({ socketPath: agent.socketPath }).getQuote(new Uint8Array(64))).rejects.toMatchObject({ code: "TEE_UNAVAILABLE", message: expect.stringMatching(/TDX not available/) });
  });
});
