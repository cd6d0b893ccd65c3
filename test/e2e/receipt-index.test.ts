/**
 * Each signed answer carries its leaf index in the node's receipt log: a plain answer in
 * `x-cloister-receipt-index`, a sealed one inside the sealed trailer (never in the clear),
 * surfaced by the verifying client as the same header. The proof is fetchable later, and
 * verifies against that later checkpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exchangeText, fetchReceipt } from "../../src/client/receipt.js";
import { createVerifiedFetch } from "../../src/client/verified-fetch.js";
import { utf8 } from "../../src/util/bytes.js";
import { startTestNode, type TestNode } from "./client-fixtures.js";

let node: TestNode;
beforeAll(async () => {
  node = await startTestNode();
});
afterAll(async () => {
  await node?.close();
});

const body = (n: number): string => JSON.stringify({ model: "fake", messages: [{ role: "user", content: `question ${n}` }] });

describe("the receipt index on every answer", () => {
  it("a sealed answer's index travels sealed; the proof fetched after more answers verifies against the later checkpoint", async () => {
    const wire: Headers[] = [];
    const recording: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      wire.push(res.headers);
      return res;
    };
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, fetch: recording, onFailure: "throw" });
    const res = await f(`${node.url}/v1/chat/completions`, { method: "POST", body: body(1) });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const index = Number(res.headers.get("x-cloister-receipt-index"));
    expect(Number.isInteger(index) && index >= 0).toBe(true);
    // Nothing in the clear names the leaf (it would link the answer to the log).
    expect(wire.every((h) => h.get("x-cloister-receipt-index") === null)).toBe(true);

    for (let i = 2; i <= 4; i++) await (await f(`${node.url}/v1/chat/completions`, { method: "POST", body: body(i) })).arrayBuffer();
    const id = (JSON.parse(utf8.decode(bytes)) as { id: string }).id;
    const text = exchangeText(utf8.encode(body(1)), bytes);
    const receipt = await fetchReceipt(`${node.url}/v1`, id, f.pinned!, text, fetch, index);
    expect(receipt.tree_size).toBeGreaterThanOrEqual(index + 4);
    await expect(fetchReceipt(`${node.url}/v1`, id, f.pinned!, text, fetch, index + 1)).rejects.toMatchObject({ code: "SIGNATURE_INVALID" });
  });

  it("a plain answer carries the header from the node", async () => {
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, e2e: false, onFailure: "throw" });
    const a = await f(`${node.url}/v1/chat/completions`, { method: "POST", body: body(5) });
    await a.arrayBuffer();
    const b = await f(`${node.url}/v1/chat/completions`, { method: "POST", body: body(6) });
    await b.arrayBuffer();
    expect(Number(b.headers.get("x-cloister-receipt-index"))).toBe(Number(a.headers.get("x-cloister-receipt-index")) + 1);
  });
});
