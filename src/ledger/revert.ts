/**
 * Names the Solidity custom error behind a failed call. A revert bubbles up unchanged
 * from a verifier or the policy through the registry, so it is decoded against the errors
 * of every market contract, not just the one that was called.
 */
import { decodeErrorResult, type Abi, type Hex } from "viem";
import { AgentRequests, AutomataDcapAdapter, Escrow, MeasurementPolicy, NodeRegistry, QuorumVerifier } from "./contracts/artifacts.js";

const ALL_ERRORS: Abi = dedupe([AgentRequests.abi, AutomataDcapAdapter.abi, Escrow.abi, MeasurementPolicy.abi, NodeRegistry.abi, QuorumVerifier.abi].flatMap((a) => a.filter((x) => x.type === "error")));

function dedupe(items: Abi): Abi {
  const seen = new Set<string>();
  return items.filter((x) => {
    const key = JSON.stringify(x);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The custom error encoded in revert data, when it is one of the market's. */
export function revertNameOfData(data: string | undefined): string | undefined {
  if (!data || !/^0x[0-9a-fA-F]{8}/.test(data)) return undefined;
  try {
    return decodeErrorResult({ abi: ALL_ERRORS, data: data as Hex }).errorName;
  } catch {
    return undefined;
  }
}

export function revertName(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 12 && e && typeof e === "object"; i++) {
    const o = e as { data?: unknown; raw?: unknown; cause?: unknown };
    if (o.data && typeof o.data === "object" && "errorName" in o.data && typeof o.data.errorName === "string") return o.data.errorName;
    const raw = typeof o.raw === "string" ? o.raw : typeof o.data === "string" ? o.data : undefined;
    const named = revertNameOfData(raw);
    if (named) return named;
    e = o.cause;
  }
  return undefined;
}
