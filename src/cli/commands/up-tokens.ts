/**
 * `cloister up --register --token-price WEI`: this boot's Privacy Pass issuer key, its
 * redeemer (spent tokens kept in memory: the key is per boot, so the set resets with it)
 * and the sale through the node's own receipt store (src/market/node-market.ts), so
 * token purchases settle with the inference receipts.
 *
 * Refused beside --require-e2ee: the wallet buys over plain HTTP (the verifying fetch
 * refuses GET /v1/tokens/issuer, and requires an enclave signature in every sealed
 * answer, which the purchase route does not produce), so such a node could never sell.
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

export async function prepareNodeTokens(market: NodeMarket, requireE2ee: boolean): Promise<NodeTokens> {
  if (requireE2ee) throw new ConfigError("INVALID_OPTION", "--token-price cannot be used with --require-e2ee yet: token purchases travel plain (docs/notes/transparency.md)");
  const key = await generateIssuerKey();
  const sale = market.tokenSale(key);
  if (!sale) throw new ConfigError("INVALID_OPTION", "--token-price needs --register");
  return { key, redeemer: new TokenRedeemer(key), sale, keyIdHex: toHex(key.keyId) };
}
