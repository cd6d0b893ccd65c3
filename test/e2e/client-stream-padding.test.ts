import { describe, expect, it } from "vitest";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { paddedLength } from "../../src/seal/e2e/padding.js";
import { ANSWER_WORDS } from "./client-fixtures.js";
import { useNodeBehindProxy } from "./client-env.js";

const env = useNodeBehindProxy();
const TAG = 16;

/** Ciphertext lengths of the frames of a sealed body, as every proxy on the path reads them. */
function frameLengths(body: Buffer): { length: number; final: boolean }[] {
  const out: { length: number; final: boolean }[] = [];
  for (let at = 0; at + 4 <= body.length; ) {
    const word = body.readUInt32BE(at);
    const length = word & 0x7fffffff;
    out.push({ length, final: (word & 0x80000000) !== 0 });
    at += 4 + length;
  }
  return out;
}

describe("sealed stream metadata seen by a proxy", () => {
  it("does not reveal the length of each streamed token to a proxy", async () => {
    const f = createVerifiedFetch({ baseURL: `${env.proxy.url}/v1`, allowSimulated: true });
    const before = env.proxy.exchanges.length;
    const res = await f(`${env.proxy.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "fake", stream: true, messages: [{ role: "user", content: "secret" }] }),
    });
    expect(await res.text()).toContain("pangolin");
    const ex = env.proxy.exchanges.slice(before).find((e) => e.path === "/v1/chat/completions");
    const frames = frameLengths(Buffer.concat(ex?.responseBytes ?? []));
    const lengths = frames.filter((fr) => !fr.final).map((fr) => fr.length);
    // frames: head chunk, one per word, final chunk, [DONE]. Unpadded, the word frames differ only by the word.
    const wordFrames = lengths.slice(1, 1 + ANSWER_WORDS.length);
    expect(wordFrames).toHaveLength(ANSWER_WORDS.length);
    const base = (wordFrames[0] ?? 0) - (ANSWER_WORDS[0]?.length ?? 0);
    expect(wordFrames.map((l) => l - base)).not.toEqual(ANSWER_WORDS.map((w) => w.length));
    // Padded: words of 1 to 11 bytes all land in one size bucket, and every frame (FINAL too) is a bucket size.
    expect(new Set(wordFrames).size).toBe(1);
    for (const fr of frames) expect((fr.length - TAG) % 256).toBe(0);
    expect(wordFrames[0]).toBe(paddedLength(0) + TAG);
  });
});
