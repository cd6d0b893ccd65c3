/**
 * Privacy Pass tokens paid through the market escrow (src/ledger): the user sends an
 * EIP-712 spend permit and a batch of blinded token requests; the enclave signs every
 * token, then one escrow receipt for the batch (the receipt book's next seq and
 * cumulative amount, stored durably) and only then releases the signed tokens. The
 * receipt settles through Escrow like an inference receipt, so the sum settled is
 * tokens issued × price. The issuer still never sees a token: spending one later cannot
 * be tied back to this purchase or its payer.
 */
import { recoverTypedDataAddress, keccak256, concat, toHex as viemHex } from "viem";
import type { Chain, SignedPermit, SignedReceipt } from "../../ledger/chain.js";
import type { ReceiptBook } from "../../ledger/receipt-book.js";
import { permitId, type Deployment } from "../../ledger/sign.js";
import { domain, PERMIT_TYPES, type Price } from "../../ledger/typed-data.js";
import { TOKEN_MODEL } from "./purchase-wire.js";
import { TransparencyCode, TransparencyError } from "../errors.js";
import { issueToken, type IssuerKey } from "./issuer.js";

export { TOKEN_MODEL };
export const MAX_TOKENS_PER_PURCHASE = 100;

/** One token costs `pricePerToken` (the token's smallest unit): billed as `promptPerMTok = price × 10^6`. */
export function tokenPrice(pricePerToken: bigint): Price {
  return { model: TOKEN_MODEL, promptPerMTok: pricePerToken * 1_000_000n, completionPerMTok: 0n };
}

export interface TokenSaleOptions {
  readonly key: IssuerKey;
  readonly book: ReceiptBook;
  readonly escrow: Deployment;
  readonly pricePerToken: bigint;
  readonly priceVersion: number;
  /** When given, the user's escrow balance must cover the batch before a token is signed. */
  readonly chain?: Pick<Chain, "balance">;
  readonly nowSeconds?: () => bigint;
}

export interface TokenSale {
  readonly price: Price;
  sell(permit: SignedPermit, requests: readonly Uint8Array[]): Promise<{ responses: Uint8Array[]; receipt: SignedReceipt }>;
}

export function createTokenSale(o: TokenSaleOptions): TokenSale {
  const price = tokenPrice(o.pricePerToken);
  const now = o.nowSeconds ?? (() => BigInt(Math.floor(Date.now() / 1000)));
  return {
    price,
    async sell(permit, requests) {
      if (requests.length === 0 || requests.length > MAX_TOKENS_PER_PURCHASE) {
        throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, `buy between 1 and ${MAX_TOKENS_PER_PURCHASE} tokens at a time`);
      }
      // The escrow checks the user's signature only at settlement: the enclave checks it now,
      // or anyone could take tokens on a permit nobody will pay.
      if (permitId(o.escrow, permit.permit) !== permit.id) throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, "the permit id is not the permit's EIP-712 digest");
      let signer: string;
      try {
        signer = await recoverTypedDataAddress({ domain: domain("escrow", o.escrow.chainId, o.escrow.address), types: PERMIT_TYPES, primaryType: "SpendPermit", message: permit.permit, signature: permit.signature });
      } catch (cause) {
        throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, "the spend permit's signature is malformed", { cause });
      }
      if (signer.toLowerCase() !== permit.permit.user.toLowerCase()) throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, "the spend permit is not signed by its user");
      const cost = BigInt(requests.length) * o.pricePerToken;
      if (o.chain && (await o.chain.balance(permit.permit.user, permit.permit.token)) < cost) {
        throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, "the user's escrow balance does not cover these tokens");
      }
      // Sign (and self-check) every token first; nothing leaves before the receipt is stored.
      const responses = requests.map((r) => issueToken(o.key, r));
      const receipt = await o.book.issue(
        {
          permit,
          model: TOKEN_MODEL,
          price,
          priceVersion: o.priceVersion,
          requestHash: keccak256(concat(requests.map((r) => viemHex(r)))),
          responseHash: keccak256(concat(responses.map((r) => viemHex(r)))),
          promptTokens: BigInt(requests.length),
          completionTokens: 0n,
        },
        now(),
      );
      return { responses, receipt };
    },
  };
}
