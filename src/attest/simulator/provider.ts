/**
 * The simulated TEE: same TeeProvider interface as configfs-tsm or the dstack guest
 * agent, so a node runs unchanged on a laptop. It keeps a dstack-style event log: one
 * fixed boot event per RTMR0-2 and the app's RTMR3 events, and the quote's RTMRs are
 * the replay of that log, so the verifier's replay checks exercise the real code path.
 * Everything it produces says "simulated"; none of it proves anything.
 */
import { sha384 } from "@noble/hashes/sha2.js";
import { fromHex, toHex, utf8 } from "../../util/bytes.js";
import { makeRuntimeEvent } from "../eventlog/dstack.js";
import { replayRtmrs } from "../eventlog/replay.js";
import type { QuoteResult, TeeProvider } from "../provider.js";
import type { EventLogEntry } from "../report/format.js";
import { buildSimulatedGpuPayload } from "./gpu.js";
import type { ReportCollateral } from "../report/format.js";
import { buildSimulatedCollateral } from "./collateral.js";
import { SIMULATED_GPU_OCSP_HEX } from "./collateral-roots.js";
import { buildSimulatedRims, type SimulatedRims } from "./rims.js";

// Signing a RIM costs a few ms; the simulated RIMs never change, so sign them once.
let rimsOnce: SimulatedRims | null = null;
const simulatedRims = (): SimulatedRims => (rimsOnce ??= buildSimulatedRims());
import { buildSimulatedTdxQuote, simulatedRegister } from "./quote.js";

/** EV_EVENT_TAG (TCG PFP §10.4.1): a tagged firmware event; here a fixed simulated boot stage. */
const EV_EVENT_TAG = 0x00000006;

export interface SimulatorOptions {
  /** Produce GPU evidence (default true: simulate a Hopper GPU in CC mode). */
  readonly gpu?: boolean;
  /** RTMR3 events recorded at "boot" (dstack records app-id, compose-hash, ...). */
  readonly appEvents?: readonly { readonly event: string; readonly payload: Uint8Array }[];
  /** The TCB status the simulated collateral gives (default UpToDate), to test refusals. */
  readonly tcbStatus?: string;
}

export interface SimulatorProvider extends TeeProvider {
  readonly name: "simulated";
  readonly simulated: true;
  extendAppEvent(event: string, payload: Uint8Array): Promise<void>;
  /** The current event log (boot events and RTMR3 events). */
  eventLog(): readonly EventLogEntry[];
}

export const SIMULATED_MRTD = simulatedRegister("mrtd");

function bootEvent(imr: number, label: string): EventLogEntry {
  const payload = utf8.encode(`cloister simulated ${label}`);
  return { imr, event_type: EV_EVENT_TAG, digest: toHex(sha384(payload)), event: label, event_payload: toHex(payload) };
}

export function createSimulatorProvider(opts: SimulatorOptions = {}): SimulatorProvider {
  const log: EventLogEntry[] = [bootEvent(0, "firmware"), bootEvent(1, "kernel"), bootEvent(2, "initrd-and-cmdline")];
  for (const e of opts.appEvents ?? []) log.push(makeRuntimeEvent(e.event, e.payload));
  const gpu = opts.gpu ?? true;
  return {
    name: "simulated",
    simulated: true,
    async getQuote(reportData: Uint8Array): Promise<QuoteResult> {
      const r = replayRtmrs(log).map((h) => fromHex(h));
      const quote = buildSimulatedTdxQuote({ mrtd: SIMULATED_MRTD, rtmrs: [r[0]!, r[1]!, r[2]!, r[3]!] }, reportData);
      return { tee: "simulated", simulated: true, quote, certChain: null, eventLog: [...log] };
    },
    async getGpuEvidence(nonce: Uint8Array): Promise<string | null> {
      return gpu ? buildSimulatedGpuPayload(nonce) : null;
    },
    async getCollateral(_quote: QuoteResult, gpuPayload: string | null): Promise<ReportCollateral> {
      // Signed under the SIMULATED roots: the verifier runs its full TCB, RIM and OCSP paths.
      return {
        intel: { ...buildSimulatedCollateral(opts.tcbStatus ? { tcbStatus: opts.tcbStatus } : {}) },
        amd_crl: null,
        nvidia_rims: gpuPayload ? [simulatedRims()] : null,
        nvidia_ocsp: gpuPayload ? [SIMULATED_GPU_OCSP_HEX] : null,
        simulated: true,
      };
    },
    async extendAppEvent(event: string, payload: Uint8Array): Promise<void> {
      log.push(makeRuntimeEvent(event, payload));
    },
    eventLog: () => [...log],
  };
}
