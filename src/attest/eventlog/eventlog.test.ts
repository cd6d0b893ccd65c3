import { readFileSync } from "node:fs";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { AttestationError } from "../../errors.js";
import { fromHex, toHex, utf8 } from "../../util/bytes.js";
import { sharedPath } from "../../util/shared.js";
import { readTdQuoteFields } from "../report/td-quote.js";
import { ccelToEntries, extractAppIdentity, makeRuntimeEvent, mismatchedRuntimeEvents, parseCcelLog, parseCcelTable, parseDstackEventLog, replayRtmrs } from "./index.js";

const googleCcel = sharedPath("vectors", "google-tdx", "ccel");
const dstackDir = sharedPath("vectors", "dstack");
const nearReport = sharedPath("vectors", "near-ai", "nearai_cloud_report_openai_gpt_oss_120b.json");

describe("RTMR replay and dstack runtime events", () => {
  it("replays an empty log to four zero registers", () => {
    expect(replayRtmrs([])).toEqual(Array(4).fill("00".repeat(48)));
  });

  it("recomputes a runtime event digest and notices a changed payload", () => {
    const ev = makeRuntimeEvent("compose-hash", fromHex("ab".repeat(32)));
    expect(mismatchedRuntimeEvents([ev])).toEqual([]);
    expect(mismatchedRuntimeEvents([{ ...ev, event_payload: "cd".repeat(32) }])).toEqual(["compose-hash"]);
  });

  it("rejects an event for a register TDX does not have", () => {
    expect(() => replayRtmrs([{ imr: 4, digest: "00".repeat(48) }])).toThrow(AttestationError);
    expect(() => parseDstackEventLog([{ imr: 7, event_type: 1, digest: "00", event: "", event_payload: "" }])).toThrow(AttestationError);
  });

  it("extracts app identity from RTMR3 events", () => {
    const id = extractAppIdentity([
      makeRuntimeEvent("app-id", fromHex("0102")),
      makeRuntimeEvent("key-provider", utf8.encode('{"name":"kms"}')),
      makeRuntimeEvent("image-digest", utf8.encode("sha256:abcd")),
      makeRuntimeEvent("agent", utf8.encode("x")),
    ]);
    expect(id.appId).toBe("0102");
    expect(id.keyProvider).toBe('{"name":"kms"}');
    expect(id.imageDigests).toEqual(["sha256:abcd"]);
    expect(id.other).toEqual({ agent: "x" });
  });
});

describe.skipIf(!googleCcel)(`CCEL boot log from a real TDX guest${googleCcel ? "" : " (skipped: ../shared/vectors/google-tdx missing)"}`, () => {
  it("reads the ACPI CCEL table", () => {
    const t = parseCcelTable(readFileSync(`${googleCcel}/ccel_table.dat`));
    expect(t.ccType).toBe(2); // 2 = TDX
    expect(t.logAreaMinimumLength).toBe(0x40000n);
  });

  it("replays the log to the quote's RTMR0-2", () => {
    const log = parseCcelLog(readFileSync(`${googleCcel}/ccel_data.dat`));
    expect(log.algorithms.get(0x000c)).toBe(48);
    const rtmrs = replayRtmrs(ccelToEntries(log));
    const q = readTdQuoteFields(readFileSync(`${googleCcel}/cos-113-tdx-quote.dat`));
    expect(rtmrs.slice(0, 3)).toEqual(q.rtmrs.slice(0, 3));
  });

  it("reports a truncated log as EVENT_LOG_INVALID", () => {
    const bytes = readFileSync(`${googleCcel}/ccel_data.dat`).subarray(0, 300);
    expect(() => parseCcelLog(bytes)).toThrow(expect.objectContaining({ code: "EVENT_LOG_INVALID" }));
  });
});

describe.skipIf(!dstackDir)(`dstack event logs${dstackDir ? "" : " (skipped: ../shared/vectors/dstack missing)"}`, () => {
  for (const name of ["quote-report.json", "tdx-lite-getquote.json"]) {
    it(`replays ${name} to all four RTMRs of its quote`, () => {
      const j = JSON.parse(readFileSync(`${dstackDir}/${name}`, "utf8")) as { quote: string; event_log: string };
      const events = parseDstackEventLog(j.event_log);
      expect(mismatchedRuntimeEvents(events)).toEqual([]);
      expect(replayRtmrs(events)).toEqual(readTdQuoteFields(fromHex(j.quote)).rtmrs);
      expect(extractAppIdentity(events).appId).toMatch(/^[0-9a-f]{40}$/);
    });
  }

  it("replays dstack's own CCEL capture to RTMR0 of the tappd quote from the same image", () => {
    const log = parseCcelLog(readFileSync(`${dstackDir}/ccel.bin`));
    const tappd = sharedPath("vectors", "intel-dcap", "quote-from-tappd.hex");
    const quote = readTdQuoteFields(fromHex(readFileSync(tappd ?? "", "utf8").trim()));
    expect(replayRtmrs(ccelToEntries(log))[0]).toBe(quote.rtmrs[0]);
  });
});

describe.skipIf(!nearReport)(`NEAR AI Cloud event log${nearReport ? "" : " (skipped: ../shared/vectors/near-ai missing)"}`, () => {
  it("replays RTMR3 and the compose-hash event equals SHA-256 of app_compose", () => {
    const r = JSON.parse(readFileSync(nearReport!, "utf8")) as {
      model_attestations: { intel_quote: string; event_log: unknown; info: { tcb_info: { app_compose: string } } }[];
    };
    const m = r.model_attestations[0]!;
    const events = parseDstackEventLog(m.event_log);
    expect(replayRtmrs(events)[3]).toBe(readTdQuoteFields(fromHex(m.intel_quote)).rtmrs[3]);
    expect(extractAppIdentity(events).composeHash).toBe(toHex(sha256(utf8.encode(m.info.tcb_info.app_compose))));
  });
});
