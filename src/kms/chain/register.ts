/**
 * The owner's on-chain registration of a sealed model: the ModelRegistry record (whose
 * policy digest names the owner-signed document) and the Escrow's royalty entry, so
 * settlement pays the owner `due × royaltyBps / 10 000` of every receipt for the model.
 */
import type { EvmAddress, Hex32 } from "../../ledger/typed-data.js";
import { KmsCode, KmsError } from "../codes.js";
import type { OpenedRegistration, Registration } from "../registration.js";
import type { ChainTerms, ModelChain } from "./model-registry.js";

const ZERO = "0x0000000000000000000000000000000000000000" as EvmAddress;

/** The document's royalty as the share of the price that Escrow takes: it must be exact. */
export function royaltyBpsOf(r: Registration): number {
  const price = BigInt(r.price.per_million_tokens);
  const royalty = BigInt(r.royalty.per_million_tokens);
  if (royalty === 0n) return 0;
  if (price === 0n || (royalty * 10_000n) % price !== 0n) {
    throw new KmsError(KmsCode.KMS_BAD_REQUEST, "on chain the royalty is a share of the price in basis points: royalty × 10000 must be a multiple of the price");
  }
  const bps = (royalty * 10_000n) / price;
  if (bps > 9_000n) throw new KmsError(KmsCode.KMS_BAD_REQUEST, "the royalty may be at most 90% of the price (Escrow.MAX_ROYALTY_BPS)");
  return Number(bps);
}

/** "native" (or ETH) is the chain's own token; anything else must be an ERC-20 address. */
export function priceTokenOf(r: Registration): EvmAddress {
  const t = r.price.token;
  if (/^(native|eth)$/i.test(t)) return ZERO;
  if (/^0x[0-9a-fA-F]{40}$/.test(t)) return t.toLowerCase() as EvmAddress;
  throw new KmsError(KmsCode.KMS_BAD_REQUEST, `on chain the price token must be "native" or an ERC-20 address, not "${t}"`);
}

export function chainTerms(reg: OpenedRegistration, policyUri = ""): ChainTerms {
  const r = reg.registration;
  return {
    sealedSha256: `0x${r.sealed_sha256}` as Hex32,
    plaintextSha256: `0x${r.plaintext_sha256}` as Hex32,
    policyDigest: `0x${reg.digest}` as Hex32,
    sequence: BigInt(r.sequence),
    priceToken: priceTokenOf(r),
    pricePerMTok: BigInt(r.price.per_million_tokens),
    royaltyBps: royaltyBpsOf(r),
    policyUri,
  };
}

export interface ChainRegistration {
  readonly model: string;
  readonly registerTx: Hex32;
  readonly escrowTx: Hex32;
  readonly royaltyBps: number;
}

/** Sent from the owner's account (the document's owner): registry record first, then the escrow's royalty. */
export async function registerOnChain(chain: ModelChain, reg: OpenedRegistration, brokers: readonly EvmAddress[], policyUri = ""): Promise<ChainRegistration> {
  const r = reg.registration;
  if (r.royalty.recipient !== r.owner) {
    throw new KmsError(KmsCode.KMS_BAD_REQUEST, "on chain the royalty goes to the model's owner (Escrow.setModel): --royalty-recipient must be the owner");
  }
  const terms = chainTerms(reg, policyUri);
  const registerTx = await chain.register(r.model_id, terms, brokers);
  const escrowTx = await chain.setEscrowModel(r.model_id, r.owner as EvmAddress, terms.royaltyBps);
  return { model: r.model_id, registerTx, escrowTx, royaltyBps: terms.royaltyBps };
}
