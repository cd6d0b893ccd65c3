import { describe, expect, it } from "vitest";
import { fromHex } from "../../util/bytes.js";
import { replayRtmrs } from "../eventlog/replay.js";
import { verifyQuoteSignatures } from "../intel/verify-signatures.js";
import { readTdQuoteFields } from "../report/td-quote.js";
import { createSimulatorProvider, SIMULATED_QUOTE_ROOTS_PEM } from "./index.js";

describe("simulated TDX quote", () => {
  it("verifies with the genuine quote checks when the simulated root is trusted, and says simulated", async () => {
    const p = createSimulatorProvider();
    const rd = new Uint8Array(64).fill(7);
    const q = await p.getQuote(rd);
    const v = verifyQuoteSignatures(q.quote, { trustedRootsPem: SIMULATED_QUOTE_ROOTS_PEM });
    expect(v.errors).toEqual([]);
    expect(v.simulated).toBe(true);
    expect(v.reportData).toBe("07".repeat(64));
  });

  it("is rejected as a foreign root by a verifier that trusts only Intel", async () => {
    const q = await createSimulatorProvider().getQuote(new Uint8Array(64));
    const v = verifyQuoteSignatures(q.quote);
    expect(v.verified).toBe(false);
    expect(v.errors.map((e) => e.code)).toContain("FOREIGN_ROOT");
  });

  it("puts the replay of its event log, app events included, in the RTMRs", async () => {
    const p = createSimulatorProvider();
    await p.extendAppEvent("agent-bundle", new Uint8Array([1, 2, 3]));
    const q = await p.getQuote(new Uint8Array(64));
    expect(readTdQuoteFields(q.quote).rtmrs).toEqual(replayRtmrs(q.eventLog));
    expect(q.eventLog.at(-1)?.event).toBe("agent-bundle");
    expect(fromHex(readTdQuoteFields(q.quote).rtmrs[3])).not.toEqual(new Uint8Array(48));
  });
});
