/**
 * `cloister up --register --token-price WEI`: this boot's Privacy Pass issuer key, its
 * redeemer (spent tokens kept in memory: the key is per boot, so the set resets with it)
 * and the sale through the node's own receipt store (src/market/node-market.ts), so
 * token purchases settle with the inference receipts.
 *
 * Works on a --require-e2ee node: the purchase is a POST under /v1, opened from the E2E
 * envelope and signed like a completion (TokenWallet `sealedFetch`: the verifying fetch).
 */
import { ConfigError } from "../../errors.js";
import type { NodeMarket } from "../../market/node-market.js";
import type { TokenSale } from "../../transparency/tokens/escrow-sale.js";
import { generateIssuerKey, type IssuerKey } from "../../transparency/tokens/issuer.js";
import { TokenRedeemer } from "../../transparency/tokens/redeemer.js";
import { toHex } from "../../util/bytes.js";

export interface NodeTokens {
  readonly key: IssuerKey;
  readonly redeemer: TokenRedeemer;
  readonly sale: TokenSale;
  /** sha256 of the key's SPKI, as the release log's issuer statement names it. */
  readonly keyIdHex: string;
}

export async function prepareNodeTokens(market: NodeMarket): Promise<NodeTokens> {
  const key = await generateIssuerKey();
  const sale = market.tokenSale(key);
  if (!sale) throw new ConfigError("INVALID_OPTION", "--token-price needs --register");
  return { key, redeemer: new TokenRedeemer(key), sale, keyIdHex: toHex(key.keyId) };
}
