/**
 * What the verifying client costs, as ratios to the plain path measured in the same run:
 * an in-process node (real gateway, simulator TEE, fast fake backend) on 127.0.0.1, so
 * the numbers measure our layers (attestation, HPKE, frame sealing, signatures), not a model.
 *
 *   first call     = attest (fetch + verify the report) + one request, vs one plain request
 *   per request    = verified (signature only) and verified + E2E, vs plain fetch
 *   per token      = a 256-token stream, E2E-sealed and verified, vs the plain stream
 */
import { createVerifiedFetch } from "../src/client/verified-fetch.js";
import { fakeBackend, startTestNode } from "../test/e2e/client-fixtures.js";
import { fmt, mean, percentile, timeIt } from "./stats.js";

const TOKENS = 256;

async function rounds(n: number, fns: readonly (() => Promise<unknown>)[]): Promise<number[][]> {
  const out = fns.map((): number[] => []);
  for (let i = 0; i < n; i++) for (const [j, fn] of fns.entries()) out[j]!.push(...(await timeIt(1, fn)));
  return out;
}

export async function run(): Promise<void> {
  const words = Array.from({ length: TOKENS }, (_, i) => ` w${i}`);
  const node = await startTestNode({ backend: fakeBackend(words) });
  const baseURL = `${node.url}/v1`;
  const url = `${baseURL}/chat/completions`;
  const body = (stream: boolean) => JSON.stringify({ model: "fake", stream, max_tokens: TOKENS, messages: [{ role: "user", content: "benchmark prompt ".repeat(20) }] });
  const post = (f: typeof fetch, stream: boolean) => async () => {
    const res = await f(url, { method: "POST", headers: { "content-type": "application/json" }, body: body(stream) });
    await res.arrayBuffer();
  };
  try {
    const plain: typeof fetch = (i, init) => fetch(i, init);
    const signed = createVerifiedFetch({ baseURL, allowSimulated: true, e2e: false });
    const sealed = createVerifiedFetch({ baseURL, allowSimulated: true });
    await signed.attest();
    await sealed.attest();
    // Warm up every path (JIT, connection pool, Web Crypto).
    for (const f of [plain, signed, sealed]) for (let i = 0; i < 5; i++) await post(f, false)();

    // Round-robin, one sample of each path per round, so load from anything else on the
    // machine hits every path alike and the ratios stay meaningful.
    const [tPlain = [], tSigned = [], tSealed = [], tFirst = [], tAttest = []] = await rounds(30, [
      post(plain, false),
      post(signed, false),
      post(sealed, false),
      () => post(createVerifiedFetch({ baseURL, allowSimulated: true }), false)(),
      () => createVerifiedFetch({ baseURL, allowSimulated: true }).attest(),
    ]);
    const [sPlain = [], sSigned = [], sSealed = []] = await rounds(15, [post(plain, true), post(signed, true), post(sealed, true)]);

    const base = mean(tPlain);
    const line = (name: string, xs: number[], b: number) => console.log(`${name.padEnd(44)} mean ${fmt(mean(xs)).padStart(9)}  p90 ${fmt(percentile(xs, 90)).padStart(9)}  ${(mean(xs) / b).toFixed(2)}x`);
    console.log(`non-stream chat (${TOKENS} tokens, fake backend), baseline = plain fetch`);
    line("plain fetch (no verification)", tPlain, base);
    line("verified, signature only (e2e: false)", tSigned, base);
    line("verified + E2E sealed", tSealed, base);
    line("first call: attest + verify + sealed request", tFirst, base);
    line("attestation alone (fetch + verify report)", tAttest, base);
    const sBase = mean(sPlain);
    console.log(`streamed chat, ${TOKENS} SSE events, baseline = plain stream`);
    line("plain stream", sPlain, sBase);
    line("verified stream (GET /v1/signature at end)", sSigned, sBase);
    line("verified + E2E sealed stream", sSealed, sBase);
    const perTok = (xs: number[]) => mean(xs) / TOKENS;
    console.log(`per streamed token: plain ${fmt(perTok(sPlain))}, E2E+verified ${fmt(perTok(sSealed))} (+${fmt(perTok(sSealed) - perTok(sPlain))}/token, ${(perTok(sSealed) / perTok(sPlain)).toFixed(2)}x)`);
  } finally {
    await node.close();
  }
}
