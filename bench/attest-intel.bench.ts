/**
 * Intel DCAP verification: cold (first call, WASM instantiation included) and warm
 * verifyDcapQuote per kind, and the overhead of our own checks as a ratio to the bare
 * dcap-qvl js_verify call on the same inputs, measured in this process.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sharedPath } from "../src/util/shared.js";
import { parseCollateral } from "../src/attest/intel/collateral.js";
import { qvlVerify } from "../src/attest/intel/dcap-wasm.js";
import { verifyDcapQuote } from "../src/attest/intel/verify-dcap.js";
import { verifyQuoteSignatures } from "../src/attest/intel/verify-signatures.js";
import { fmt, mean, percentile, timeIt } from "./stats.js";

const KINDS = {
  tdx: { quote: "tdx_quote", collateral: "tdx_quote_collateral.json", now: new Date("2025-07-01T00:00:00Z") },
  sgx: { quote: "sgx_quote", collateral: "sgx_quote_collateral.json", now: new Date("2025-07-01T00:00:00Z") },
} as const;

export async function run(): Promise<void> {
  const dir = sharedPath("vectors", "intel-dcap");
  if (!dir) {
    console.log("skipped: ../shared/vectors/intel-dcap is missing");
    return;
  }
  let first = true;
  for (const [kind, c] of Object.entries(KINDS)) {
    const quote = new Uint8Array(readFileSync(join(dir, c.quote)));
    const collateral = parseCollateral(JSON.parse(readFileSync(join(dir, c.collateral), "utf8")));
    const opts = { collateral, now: c.now };
    const t0 = performance.now();
    const v = verifyDcapQuote(quote, opts);
    const cold = performance.now() - t0;
    if (!v.verified) throw new Error(`${kind}: the genuine quote did not verify: ${v.errors[0]?.code ?? ""}`);
    const n = 200;
    const ours = await timeIt(n, () => verifyDcapQuote(quote, opts));
    const bare = await timeIt(n, () => qvlVerify(quote, collateral, c.now.getTime() / 1000));
    const offline = await timeIt(n, () => verifyQuoteSignatures(quote, { now: c.now }));
    console.log(
      `${kind}: cold ${fmt(cold)}${first ? " (incl. WASM init)" : ""}; warm verifyDcapQuote mean ${fmt(mean(ours))}, p95 ${fmt(percentile(ours, 95))}; ` +
        `bare js_verify mean ${fmt(mean(bare))}; ratio ours/bare ${(mean(ours) / mean(bare)).toFixed(2)}x; ` +
        `offline verifyQuoteSignatures ${fmt(mean(offline))} (${(mean(offline) / mean(bare)).toFixed(2)}x bare)`,
    );
    first = false;
  }
}
