/** A NodeRegistered event's arguments as a node record (without its prices, which come from PricesSet): one mapping for every reader of the registry. */
import type { NodeRecord } from "./chain.js";
import type { EvmAddress, Hex32 } from "./typed-data.js";

export interface NodeRegisteredArgs {
  readonly enclave: string;
  readonly operator: string;
  readonly payout: string;
  readonly endpoint: string;
  readonly region: string;
  readonly latE6: number;
  readonly lonE6: number;
  readonly measurementsDigest: Hex32;
  readonly gpuEvidenceDigest: Hex32;
  readonly attestationDigest: Hex32;
  readonly tcbStatus: number;
  readonly simulated: boolean;
  readonly expiresAt: bigint;
  readonly priceVersion: number;
}

export function nodeFromRegistered(x: NodeRegisteredArgs): Omit<NodeRecord, "prices"> {
  return {
    enclave: x.enclave.toLowerCase() as EvmAddress,
    operator: x.operator.toLowerCase() as EvmAddress,
    payout: x.payout.toLowerCase() as EvmAddress,
    endpoint: x.endpoint,
    region: x.region,
    lat: x.latE6 / 1e6,
    lon: x.lonE6 / 1e6,
    measurementsDigest: x.measurementsDigest,
    gpuEvidenceDigest: x.gpuEvidenceDigest,
    attestationDigest: x.attestationDigest,
    tcbStatus: x.tcbStatus,
    simulated: x.simulated,
    expiresAt: x.expiresAt,
    priceVersion: x.priceVersion,
  };
}
