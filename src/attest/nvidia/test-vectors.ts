/**
 * Test-only loaders for the genuine NVIDIA vectors in ../shared/vectors (never copied into
 * the repo). Each returns null when ../shared is missing so suites can skip loudly.
 */
import { readFileSync } from "node:fs";
import { sharedPath } from "../../util/shared.js";
import { fromHex } from "../../util/bytes.js";

export interface HopperSample {
  readonly evidence: Uint8Array;
  readonly certChainPem: string;
  readonly nonce: Uint8Array;
}

export function hopperSample(): HopperSample | null {
  const rep = sharedPath("vectors", "nvidia-spdm", "hopperAttestationReport.txt");
  const chain = sharedPath("vectors", "nvidia-spdm", "hopperCertChain.txt");
  if (!rep || !chain) return null;
  const evidence = fromHex(readFileSync(rep, "utf8").trim());
  return { evidence, certChainPem: readFileSync(chain, "utf8"), nonce: fromHex("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb") };
}

export function readShared(...parts: string[]): string | null {
  const p = sharedPath(...parts);
  return p ? readFileSync(p, "utf8") : null;
}
