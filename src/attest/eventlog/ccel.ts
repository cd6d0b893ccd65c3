/**
 * The TDX boot event log as firmware leaves it: the ACPI CCEL table (where the log area
 * is) and the log area itself, in the TCG "crypto agile" format.
 *
 * - ACPI CCEL table: ACPI 6.5 §5.2.34 (header 36 bytes, CC type, subtype, reserved u16,
 *   LAML u64 = log area minimum length, LASA u64 = log area start address).
 * - Log: TCG PC Client Platform Firmware Profile §10.2: a legacy TCG_PCR_EVENT (SHA-1
 *   sized) carrying the "Spec ID Event03" header, then TCG_PCR_EVENT2 entries
 *   {pcrIndex u32, eventType u32, TPML_DIGEST_VALUES, eventSize u32, event}.
 * - MR index: UEFI 2.10 §38.4.1 / Intel TDX Guest-Hypervisor Communication Interface:
 *   CC MR index 0 = MRTD, 1 = RTMR0, 2 = RTMR1, 3 = RTMR2, 4 = RTMR3. So rtmr = index - 1.
 * The unused tail of the log area is 0xFF (or 0x00) filled; parsing stops there.
 */
import { AttestationError } from "../../errors.js";
import { utf8 } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { ByteReader } from "./reader.js";

/** TPM_ALG_ID values (TCG Algorithm Registry). */
export const TPM_ALG = { sha1: 0x0004, sha256: 0x000b, sha384: 0x000c, sha512: 0x000d } as const;
/** EV_NO_ACTION events are informational and never extended (TCG PFP §10.4.1). */
export const EV_NO_ACTION = 0x00000003;

export interface CcelTable {
  readonly revision: number;
  readonly oemId: string;
  readonly ccType: number;
  readonly ccSubtype: number;
  readonly logAreaMinimumLength: bigint;
  readonly logAreaStartAddress: bigint;
}

export interface CcelEvent {
  /** The CC MR index as written in the log (0 = MRTD, 1..4 = RTMR0..3). */
  readonly mrIndex: number;
  /** RTMR this event extends (mrIndex - 1), or -1 for MRTD. */
  readonly imr: number;
  readonly eventType: number;
  readonly digests: readonly { readonly alg: number; readonly digest: Uint8Array }[];
  /** The SHA-384 digest (TDX RTMRs are SHA-384), or null when the event has none. */
  readonly digest: Uint8Array | null;
  readonly data: Uint8Array;
}

export interface CcelLog {
  /** Digest sizes per algorithm from the Spec ID event. */
  readonly algorithms: ReadonlyMap<number, number>;
  readonly events: readonly CcelEvent[];
}

const MAX_EVENTS = 100_000;
const MAX_DIGESTS = 16;

function invalid(message: string): AttestationError {
  return new AttestationError(AttestCode.EVENT_LOG_INVALID, message);
}

export function parseCcelTable(bytes: Uint8Array): CcelTable {
  const r = new ByteReader(bytes);
  const sig = utf8.decode(r.take(4, "ACPI signature"));
  if (sig !== "CCEL") throw invalid(`not an ACPI CCEL table (signature "${sig}")`);
  const length = r.u32("table length");
  if (length < 56 || length > bytes.length) throw invalid(`CCEL table length ${length} does not fit ${bytes.length} bytes`);
  const revision = r.u8();
  r.u8(); // checksum
  const oemId = utf8.decode(r.take(6, "OEM ID")).replace(/\s+$/, "");
  r.take(8 + 4 + 4 + 4, "rest of ACPI header");
  const ccType = r.u8();
  const ccSubtype = r.u8();
  r.u16();
  return { revision, oemId, ccType, ccSubtype, logAreaMinimumLength: r.u64("LAML"), logAreaStartAddress: r.u64("LASA") };
}

/** Reads the Spec ID event (TCG PFP §10.4.5.1) and returns digest sizes by algorithm. */
function readSpecId(r: ByteReader): Map<number, number> {
  r.u32("pcrIndex");
  const eventType = r.u32("eventType");
  if (eventType !== EV_NO_ACTION) throw invalid("the log does not start with the Spec ID event");
  r.take(20, "SHA-1 digest");
  const size = r.u32("eventSize");
  const ev = new ByteReader(r.take(size, "Spec ID event"));
  const signature = utf8.decode(ev.take(16, "Spec ID signature"));
  if (!signature.startsWith("Spec ID Event03")) throw invalid("the first event is not \"Spec ID Event03\" (crypto-agile log)");
  ev.take(4 + 4, "platform class, versions, uintn size");
  const n = ev.u32("numberOfAlgorithms");
  if (n === 0 || n > MAX_DIGESTS) throw invalid(`implausible algorithm count ${n}`);
  const algs = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const alg = ev.u16("algorithmId");
    algs.set(alg, ev.u16("digestSize"));
  }
  return algs;
}

function isFiller(r: ByteReader): boolean {
  const v = r.peekU32();
  return v === null || v === 0xffffffff || v === 0;
}

export function parseCcelLog(bytes: Uint8Array): CcelLog {
  const r = new ByteReader(bytes);
  const algorithms = readSpecId(r);
  const events: CcelEvent[] = [];
  while (r.remaining >= 8 && !isFiller(r)) {
    if (events.length >= MAX_EVENTS) throw invalid("too many events");
    const mrIndex = r.u32("mrIndex");
    const eventType = r.u32("eventType");
    const count = r.u32("digest count");
    if (count > MAX_DIGESTS) throw invalid(`implausible digest count ${count} at event ${events.length}`);
    const digests: { alg: number; digest: Uint8Array }[] = [];
    for (let i = 0; i < count; i++) {
      const alg = r.u16("hashAlg");
      const size = algorithms.get(alg);
      if (size === undefined) throw invalid(`event ${events.length} uses algorithm 0x${alg.toString(16)} the Spec ID event did not declare`);
      digests.push({ alg, digest: r.take(size, "digest") });
    }
    const size = r.u32("eventSize");
    const data = r.take(size, "event data");
    if (mrIndex > 4) throw invalid(`event ${events.length} has CC MR index ${mrIndex} (TDX has 0..4)`);
    const digest = digests.find((d) => d.alg === TPM_ALG.sha384)?.digest ?? null;
    events.push({ mrIndex, imr: mrIndex - 1, eventType, digests, digest, data });
  }
  // What follows the last event must be the area's filler; anything else is a cut-off event.
  const rest = bytes.subarray(r.offset);
  if (!rest.every((b) => b === 0xff) && !rest.every((b) => b === 0)) {
    throw invalid(`the log has ${rest.length} trailing bytes that are neither an event nor filler`);
  }
  return { algorithms, events };
}
