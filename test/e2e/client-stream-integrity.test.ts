import { describe, expect, it } from "vitest";
import { createCloisterClient } from "../../src/client/cloister-client.js";
import { E2EHeader } from "../../src/seal/e2e/headers.js";
import { useNodeBehindProxy } from "./client-env.js";

const env = useNodeBehindProxy();
const params = { model: "fake", stream: true as const, messages: [{ role: "user" as const, content: "hi" }] };

/** Drops every frame whose FINAL bit is set from a sealed response body. */
function dropFinalFrame(body: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  let buf = new Uint8Array(0);
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        const b = new Uint8Array(buf.length + chunk.length);
        b.set(buf);
        b.set(chunk, buf.length);
        buf = b;
        while (buf.length >= 4) {
          const word = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0, false);
          const len = word & 0x7fffffff;
          if (buf.length < 4 + len) break;
          if ((word & 0x80000000) === 0) ctl.enqueue(buf.slice(0, 4 + len));
          buf = buf.slice(4 + len);
        }
      },
    }),
  );
}

describe("createCloisterClient streams are signature-checked to the end", () => {
  it("rejects a plaintext stream whose content a proxy rewrote", async () => {
    env.proxy.tamper = {
      responseChunk: (path, _i, chunk) => (path.includes("/chat/completions") ? Buffer.from(chunk.toString("latin1").replace("pangolin", "PWNEDxxx"), "latin1") : undefined),
    };
    try {
      const client = createCloisterClient({ baseURL: `${env.proxy.url}/v1`, allowSimulated: true, e2e: false });
      const run = async (): Promise<string> => {
        let text = "";
        for await (const ch of await client.chat.completions.create(params)) text += ch.choices[0]?.delta.content ?? "";
        return text;
      };
      await expect(run()).rejects.toMatchObject({ code: "SIGNATURE_INVALID" });
    } finally {
      env.proxy.tamper = {};
    }
  });

  it("rejects a sealed stream whose final (signature) frame was cut off", async () => {
    const cutting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (res.headers.get(E2EHeader.version) !== "v1" || !res.body) return res;
      return new Response(dropFinalFrame(res.body), { status: res.status, headers: res.headers });
    };
    const client = createCloisterClient({ baseURL: `${env.proxy.url}/v1`, allowSimulated: true, fetch: cutting });
    const run = async (): Promise<string> => {
      let text = "";
      for await (const ch of await client.chat.completions.create(params)) text += ch.choices[0]?.delta.content ?? "";
      return text;
    };
    await expect(run()).rejects.toMatchObject({ code: "E2E_TRUNCATED" });
  });
});
