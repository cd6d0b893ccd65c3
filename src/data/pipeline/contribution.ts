/**
 * One contribution through the pipeline, inside the enclave: parse, clean each record
 * with the measured cleaner, reject records that stay risky, drop duplicates, seal what
 * is kept, and sign the receipt and the reward claim. Only counts leave this function in
 * logs; the raw text goes nowhere but the cleaner.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { z } from "zod";
import { DataError } from "../../errors.js";
import type { Logger } from "../../log/logger.js";
import type { Signer } from "../../seal/signing.js";
import { utf8 } from "../../util/bytes.js";
import type { CleanerConfig } from "../clean/cleaner.js";
import { cleanWithModel } from "../clean/clean-with-model.js";
import type { NerModel } from "../clean/onnx/ner-model.js";
import { Deduper } from "../clean/dedupe.js";
import type { EntityType } from "../clean/types.js";
import { signClaim, signReceipt, type ClaimDomain, type ContributionReceipt, type RewardClaim, type Signed } from "./receipt.js";
import { validDataset, type DatasetStore } from "./sealed-store.js";
import type { OnSigned } from "../../transparency/signed-hook.js";

const HEX32 = /^(0x)?[0-9a-f]{64}$/;

export const ContributionRequest = z.object({
  dataset: z.string().refine(validDataset, "dataset names are 1-64 of a-z 0-9 . _ -"),
  /** The contributor's secret key (32 bytes hex), kept by their client; only its keyed hash is stored. */
  contributor_key: z.string().regex(HEX32),
  /** keccak256(payout address || salt), or omitted: the address itself is never sent. */
  payout_commitment: z.string().regex(HEX32).optional(),
  records: z.array(z.object({ text: z.string().max(1_000_000) })).min(1).max(10_000),
});
export type ContributionRequest = z.infer<typeof ContributionRequest>;

export type RecordStatus = { index: number; status: "kept" } | { index: number; status: "rejected"; reason: string } | { index: number; status: "duplicate"; reason: "exact" | "near" };

export interface ContributionResult {
  readonly receipt: Signed<ContributionReceipt>;
  readonly claim: Signed<RewardClaim> | null;
  readonly removed: Readonly<Partial<Record<EntityType, number>>>;
  readonly records: readonly RecordStatus[];
}

export interface PipelineDeps {
  readonly config: CleanerConfig;
  readonly measurement: string;
  readonly signer: Signer;
  /** The node's receipt log hears of every contribution receipt (src/transparency/signed-hook.ts). */
  readonly onSigned?: OnSigned;
  readonly store: DatasetStore;
  /** Keys contributor pseudonyms; never leaves the enclave. */
  readonly pseudonymKey: Uint8Array;
  readonly nearDuplicateThreshold: number;
  /** The DataPool that pays this pipeline's claims (its EIP-712 domain), when configured. */
  readonly claimDomain?: ClaimDomain;
  /** The ONNX token classifier, when configured (its hash is in the measurement). */
  readonly nerModel?: NerModel;
  readonly logger?: Logger;
  readonly now?: () => number;
}

const hex0x = (b: Uint8Array): string => `0x${Buffer.from(b).toString("hex")}`;
const sha256 = (b: Uint8Array | string): string => hex0x(createHash("sha256").update(b).digest());

export function pseudonym(key: Uint8Array, dataset: string, contributorKey: string): string {
  return hex0x(createHmac("sha256", key).update(`cloister/contributor/v1\0${dataset}\0${contributorKey.replace(/^0x/, "").toLowerCase()}`).digest());
}

export function parseContribution(body: Uint8Array): ContributionRequest {
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(body));
  } catch {
    throw new DataError("CONTRIBUTION_INVALID", "the contribution is not JSON");
  }
  const r = ContributionRequest.safeParse(json);
  // Name the field, never echo the value (it may be the contributor's text).
  if (!r.success) throw new DataError("CONTRIBUTION_INVALID", `invalid contribution: ${r.error.issues.map((i) => i.path.join(".") || "body").join(", ")}`);
  return r.data;
}

export async function processContribution(req: ContributionRequest, deps: PipelineDeps): Promise<ContributionResult> {
  const issuedAt = Math.floor((deps.now?.() ?? Date.now()) / 1000);
  const contributor = pseudonym(deps.pseudonymKey, req.dataset, req.contributor_key);
  const contributionId = hex0x(randomBytes(32));
  const dedupe = new Deduper(deps.nearDuplicateThreshold);
  const removed: Partial<Record<EntityType, number>> = {};
  const statuses: RecordStatus[] = [];
  const kept: string[] = [];
  const received = req.records.map((r) => JSON.stringify({ text: r.text })).join("\n");
  for (const [index, rec] of req.records.entries()) {
    const r = await cleanWithModel(rec.text, deps.config, deps.nerModel ?? null);
    for (const [t, n] of Object.entries(r.removed)) removed[t as EntityType] = (removed[t as EntityType] ?? 0) + (n ?? 0);
    if (r.rejected) {
      statuses.push({ index, status: "rejected", reason: `remaining risk ${r.risk.score} above ${deps.config.riskThreshold} (${r.risk.signals.join(", ")})` });
      continue;
    }
    const dup = dedupe.check(r.text);
    if (dup !== "new") {
      statuses.push({ index, status: "duplicate", reason: dup });
      continue;
    }
    statuses.push({ index, status: "kept" });
    kept.push(JSON.stringify({ text: r.text }));
  }
  const keptBytes = utf8.encode(kept.length ? kept.join("\n") + "\n" : "");
  const count = (s: RecordStatus["status"]): number => statuses.filter((x) => x.status === s).length;
  const removedSorted = Object.fromEntries(Object.entries(removed).sort(([a], [b]) => a.localeCompare(b)));
  const receipt: ContributionReceipt = {
    contributionId,
    dataset: req.dataset,
    pipeline: `0x${deps.measurement.replace(/^0x/, "")}`,
    contributor,
    receivedSha256: sha256(utf8.encode(received)),
    keptSha256: sha256(keptBytes),
    removedSha256: sha256(JSON.stringify(removedSorted)),
    recordsReceived: req.records.length,
    recordsKept: kept.length,
    recordsRejected: count("rejected"),
    recordsDuplicate: count("duplicate"),
    accepted: kept.length > 0,
    issuedAt,
  };
  if (receipt.accepted) {
    deps.store.put(req.dataset, { contributionId, contributor, keptSha256: receipt.keptSha256, records: kept.length, pipeline: receipt.pipeline, issuedAt }, keptBytes);
  }
  deps.logger?.info("contribution", { dataset: req.dataset, records: receipt.recordsReceived, kept: receipt.recordsKept, rejected: receipt.recordsRejected, duplicate: receipt.recordsDuplicate });
  const claim: RewardClaim | null = receipt.accepted
    ? { contributionId, dataset: req.dataset, pipeline: receipt.pipeline, contributor, payoutCommitment: `0x${(req.payout_commitment ?? "0".repeat(64)).replace(/^0x/, "")}`, units: String(kept.length), issuedAt }
    : null;
  return {
    receipt: signReceipt(deps.signer, receipt, deps.onSigned),
    claim: claim && signClaim(deps.signer, claim, deps.claimDomain),
    removed: removedSorted,
    records: statuses,
  };
}
