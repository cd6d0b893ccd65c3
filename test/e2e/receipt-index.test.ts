/**
 * Each signed answer carries its leaf index in the node's receipt log: a plain answer in
 * `x-cloister-receipt-index`, a sealed one inside the sealed trailer (never in the clear),
 * surfaced by the verifying client as the same header. The proof is fetchable later, and
 * verifies against that later checkpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exchangeText, fetchReceipt, type SignedReceipt } from "../../src/client/receipt.js";
import { RECEIPT_SALT_HEADER } from "../../src/client/response.js";
import { verifyReceiptInclusion } from "../../src/transparency/receipt-log.js";
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
    const salt = res.headers.get(RECEIPT_SALT_HEADER) ?? undefined;
    expect(salt).toMatch(/^[0-9a-f]{64}$/);
    expect(wire.every((h) => h.get(RECEIPT_SALT_HEADER) === null)).toBe(true);
    const receipt = await fetchReceipt(`${node.url}/v1`, id, f.pinned!, text, fetch, index, salt);
    expect(receipt.tree_size).toBeGreaterThanOrEqual(index + 4);
    await expect(fetchReceipt(`${node.url}/v1`, id, f.pinned!, text, fetch, index + 1, salt)).rejects.toMatchObject({ code: "SIGNATURE_INVALID" });
    await expect(fetchReceipt(`${node.url}/v1`, id, f.pinned!, text, fetch, index, "00".repeat(32))).rejects.toMatchObject({ code: "SIGNATURE_INVALID" });
  });

  it("the public proof of a sealed exchange has no salt: someone who guesses the prompt and the answer exactly still cannot check the guess against the log", async () => {
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, onFailure: "throw" });
    const res = await f(`${node.url}/v1/chat/completions`, { method: "POST", body: body(7) });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const id = (JSON.parse(utf8.decode(bytes)) as { id: string }).id;
    // The request id is in the clear (X-Cloister-Request-Id), so anyone can ask for the proof.
    const pub = (await (await fetch(`${node.url}/v1/receipts/${id}`)).json()) as SignedReceipt;
    expect(pub.salt).toBeNull();
    // The perfect guess: the exact request and response bytes. Without the salt it matches nothing.
    const guess = exchangeText(utf8.encode(body(7)), bytes);
    expect(verifyReceiptInclusion(guess, pub)).toBe(false);
    await expect(fetchReceipt(`${node.url}/v1`, id, f.pinned!, guess, fetch)).rejects.toMatchObject({ code: "SIGNATURE_MISSING" });
    // The caller, who holds the salt from the sealed trailer, proves it.
    expect(verifyReceiptInclusion(guess, { ...pub, salt: res.headers.get(RECEIPT_SALT_HEADER) })).toBe(true);
  });

  it("a plain answer carries the header from the node", async () => {
    const f = createVerifiedFetch({ baseURL: `${node.url}/v1`, allowSimulated: true, e2e: false, onFailure: "throw" });
    const a = await f(`${node.url}/v1/chat/completions`, { method: "POST", body: body(5) });
    await a.arrayBuffer();
    const b = await f(`${node.url}/v1/chat/completions`, { method: "POST", body: body(6) });
    await b.arrayBuffer();
    expect(Number(b.headers.get("x-cloister-receipt-index"))).toBe(Number(a.headers.get("x-cloister-receipt-index")) + 1);
    // A plain exchange's signed text is in the clear already: its proof keeps the salt.
    const id = b.headers.get("x-cloister-request-id") as string;
    const pub = (await (await fetch(`${node.url}/v1/receipts/${id}`)).json()) as SignedReceipt;
    expect(pub.salt).toMatch(/^[0-9a-f]{64}$/);
  });
});
