/**
 * What a quorum member (an attestation-verifier enclave, contracts/QuorumVerifier.sol) does
 * before it signs a Verdict: it fetches the node's attestation report itself, with its own
 * fresh nonce, and runs src/attest on it (through the client's attestNode: quote, chain,
 * policy, key binding, GPU evidence). Only what that verification vouched for goes into the
 * verdict: the signing address is the enclave, the digests are computed here from the
 * report it checked (docs/protocol.md "Market contracts": ids and digests). Nothing the
 * node says about itself is taken on trust; a report that does not verify gets no verdict.
 */
import { createHash } from "node:crypto";
import { keccak256, type LocalAccount } from "viem";
import { attestNode } from "../client/attestation.js";
import { defaultReportVerifier } from "../client/default-verifier.js";
import type { ReportVerifier } from "../client/verifier.js";
import { fromHex } from "../util/bytes.js";
import type { Deployment } from "../ledger/sign.js";
import { VERDICT_TYPES, domain, ZERO_HASH, type EvmAddress, type Hex32, type Verdict } from "../ledger/typed-data.js";
import { MarketCode, MarketError } from "./errors.js";

/** Automata's / Intel's TCB status enum as the registry's policy stores it (0 = UpToDate). */
const TCB_CODES: Readonly<Record<string, number>> = {
  UpToDate: 0,
  SWHardeningNeeded: 1,
  ConfigurationAndSWHardeningNeeded: 2,
  ConfigurationNeeded: 3,
  OutOfDate: 4,
  OutOfDateConfigurationNeeded: 5,
  Revoked: 6,
};

export interface VerdictOptions {
  /** The node's base URL (its API is at `${endpoint}/v1`). */
  readonly endpoint: string;
  /** Only where the registry allows simulated registrations. */
  readonly allowSimulated: boolean;
  /** Chain time (seconds): a verdict issued after the latest block is refused on chain. */
  readonly chainTime: () => Promise<bigint>;
  /** How long this verdict vouches for the evidence (the registration's notAfter). Default 1 day. */
  readonly validitySeconds?: bigint;
  readonly fetch?: typeof fetch;
  readonly verifyReport?: ReportVerifier;
  readonly policy?: unknown;
}

export interface CheckedNode {
  readonly verdict: Verdict;
  /** The report's measurements as src/attest named them. */
  readonly measurements: Readonly<Record<string, string>>;
}

/** keccak256(MRTD ‖ RTMR0 ‖ RTMR1 ‖ RTMR2 ‖ RTMR3), 5 × 48 bytes: what the Automata adapter computes on chain too. */
export function measurementsDigestOf(m: Readonly<Record<string, string>>): Hex32 {
  const parts = ["mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3"].map((k) => {
    const v = m[k];
    if (!v || !/^[0-9a-f]{96}$/i.test(v)) throw new MarketError(MarketCode.VERDICT_REFUSED, `the verified report has no 48-byte ${k}`);
    return fromHex(v);
  });
  const all = new Uint8Array(240);
  parts.forEach((p, i) => all.set(p, i * 48));
  return keccak256(all);
}

export async function checkNodeForVerdict(o: VerdictOptions): Promise<CheckedNode> {
  const net = o.fetch ?? globalThis.fetch.bind(globalThis);
  let reportText = "";
  const capture: typeof fetch = async (input, init) => {
    const res = await net(input, { ...init, redirect: "manual" });
    reportText = await res.clone().text();
    return res;
  };
  let pinned;
  try {
    pinned = await attestNode({
      baseURL: `${o.endpoint.replace(/\/+$/, "")}/v1`,
      fetch: capture,
      verifyReport: o.verifyReport ?? defaultReportVerifier,
      policy: o.policy,
      allowSimulated: o.allowSimulated,
      signingAlgo: "ecdsa",
      onWarning: () => {},
    });
  } catch (err) {
    throw new MarketError(MarketCode.VERDICT_REFUSED, `the node's attestation did not verify: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const v = pinned.verification;
  const measurements = v.measurements ?? {};
  const report = JSON.parse(reportText) as Record<string, unknown>;
  const gpu = typeof report["nvidia_payload"] === "string" ? report["nvidia_payload"] : null;
  const tcbName = (v as { tcbStatus?: string | null }).tcbStatus ?? (v.simulated ? "UpToDate" : null);
  const tcbStatus = tcbName !== null ? TCB_CODES[tcbName] : undefined;
  if (tcbStatus === undefined) throw new MarketError(MarketCode.VERDICT_REFUSED, `the report's TCB status (${String(tcbName)}) has no on-chain code`);
  const now = await o.chainTime();
  const verdict: Verdict = {
    enclave: pinned.signingAddress as EvmAddress,
    attestationDigest: keccak256(new TextEncoder().encode(reportText)),
    measurementsDigest: measurementsDigestOf(measurements),
    gpuEvidenceDigest: gpu ? (`0x${createHash("sha256").update(gpu).digest("hex")}` as Hex32) : ZERO_HASH,
    tcbStatus,
    notAfter: now + (o.validitySeconds ?? 86_400n),
    simulated: v.simulated,
    issuedAt: now,
  };
  return { verdict, measurements };
}

export function signVerdict(member: LocalAccount, quorum: Deployment, v: Verdict): Promise<Hex32> {
  return member.signTypedData({ domain: domain("quorum", quorum.chainId, quorum.address), types: VERDICT_TYPES, primaryType: "Verdict", message: v });
}
