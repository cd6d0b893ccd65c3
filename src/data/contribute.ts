/**
 * Contributing data, the contributor's side: attest the pipeline with the verifying
 * client (src/client; simulated pipelines refused unless allowed), check that the
 * pipeline runs the cleaner measurement the contributor expects (when given), seal the
 * contribution end to end, and verify the enclave-signed receipt (which names the
 * measurement) and reward claim against the attested signing address.
 */
import { z } from "zod";
import { createVerifiedFetch } from "../client/verified-fetch.js";
import type { ReportVerifier } from "../client/verifier.js";
import { DataError } from "../errors.js";
import { verifyClaim, verifyReceipt, type ContributionReceipt, type RewardClaim, type Signed } from "./pipeline/receipt.js";

export interface ContributeOptions {
  /** The pipeline node's base URL, e.g. http://127.0.0.1:8080/v1. */
  readonly baseURL: string;
  readonly dataset: string;
  readonly records: ReadonlyArray<{ text: string }>;
  /** The contributor's secret key (32 bytes hex): the pipeline stores only a keyed hash of it. */
  readonly contributorKey: string;
  /** keccak256(payout address || salt); the payout address itself is never sent. */
  readonly payoutCommitment?: string;
  /** Refuse unless the attested manifest's data_pipeline measurement is this one. */
  readonly expectedPipeline?: string;
  readonly allowSimulated?: boolean;
  readonly policy?: unknown;
  readonly verifyReport?: ReportVerifier;
  readonly fetch?: typeof fetch;
  readonly apiKey?: string;
}

const SignedShape = z.object({
  message: z.record(z.unknown()),
  digest: z.string(),
  signature: z.string(),
  signing_address: z.string(),
  domain: z.object({ name: z.literal("Cloister Data"), version: z.literal("1"), chainId: z.number().int().positive(), verifyingContract: z.string().regex(/^0x[0-9a-f]{40}$/) }).optional(),
});
const Answer = z.object({
  receipt: SignedShape,
  claim: SignedShape.nullable(),
  removed: z.record(z.number()),
  records: z.array(z.object({ index: z.number(), status: z.enum(["kept", "rejected", "duplicate"]), reason: z.string().optional() })),
});

export interface ContributeResult {
  readonly receipt: Signed<ContributionReceipt>;
  readonly claim: Signed<RewardClaim> | null;
  readonly removed: Readonly<Record<string, number>>;
  readonly records: ReadonlyArray<{ index: number; status: "kept" | "rejected" | "duplicate"; reason?: string }>;
  /** The attested signer the receipt was checked against. */
  readonly signingAddress: string;
  readonly simulated: boolean;
}

export async function contribute(opts: ContributeOptions): Promise<ContributeResult> {
  const vf = createVerifiedFetch({
    baseURL: opts.baseURL,
    allowSimulated: opts.allowSimulated ?? false,
    signingAlgo: "ecdsa",
    ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
    ...(opts.verifyReport ? { verifyReport: opts.verifyReport } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  const pinned = await vf.attest();
  const underlying = opts.fetch ?? globalThis.fetch.bind(globalThis);
  if (opts.expectedPipeline) {
    // Before anything is sent: the pipeline says which measurement it runs (a misconfigured
    // node is refused here); after, the attested key signs it into the receipt (checked below).
    const res = await underlying(`${opts.baseURL.replace(/\/+$/, "")}/data/pipeline`);
    const said = res.ok ? ((await res.json()) as { measurement?: string }).measurement : undefined;
    if (said !== opts.expectedPipeline) throw new DataError("PIPELINE_NOT_EXPECTED", "the pipeline does not run the expected cleaner measurement");
  }
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.apiKey) headers["authorization"] = `Bearer ${opts.apiKey}`;
  const body = JSON.stringify({
    dataset: opts.dataset,
    contributor_key: opts.contributorKey,
    ...(opts.payoutCommitment ? { payout_commitment: opts.payoutCommitment } : {}),
    records: opts.records,
  });
  const res = await vf(`${opts.baseURL.replace(/\/+$/, "")}/data/contributions`, { method: "POST", headers, body });
  const text = await res.text();
  if (!res.ok) throw new DataError("CONTRIBUTION_REFUSED", `the pipeline refused the contribution (HTTP ${res.status}): ${errorMessage(text)}`);
  const parsed = Answer.safeParse(JSON.parse(text));
  if (!parsed.success) throw new DataError("RECEIPT_INVALID", "the pipeline's answer is not a receipt");
  const receipt = parsed.data.receipt as unknown as Signed<ContributionReceipt>;
  const claim = parsed.data.claim as unknown as Signed<RewardClaim> | null;
  if (!verifyReceipt(receipt, pinned.signingAddress)) throw new DataError("RECEIPT_INVALID", "the receipt is not signed by the attested pipeline");
  if (claim && !verifyClaim(claim, pinned.signingAddress)) throw new DataError("RECEIPT_INVALID", "the reward claim is not signed by the attested pipeline");
  if (opts.expectedPipeline && receipt.message.pipeline !== `0x${opts.expectedPipeline.replace(/^0x/, "")}`) {
    throw new DataError("PIPELINE_NOT_EXPECTED", "the receipt names another pipeline measurement");
  }
  if (claim && claim.message.contributionId !== receipt.message.contributionId) throw new DataError("RECEIPT_INVALID", "the claim is for another contribution");
  return { receipt, claim, removed: parsed.data.removed, records: parsed.data.records, signingAddress: pinned.signingAddress, simulated: pinned.simulated };
}

function errorMessage(text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: { message?: string } }).error;
    return e?.message ?? "unknown error";
  } catch {
    return "unknown error";
  }
}
