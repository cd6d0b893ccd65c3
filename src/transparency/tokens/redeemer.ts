/**
 * Redeems Privacy Pass tokens inside the enclave (RFC 9577 `Authorization: PrivateToken
 * token=...`): the signature must verify under a current issuer key, and each token's
 * nonce is spent once. The spent set lives as long as the issuer key (a new epoch key
 * makes old tokens useless, so the set can be dropped with it).
 */
import { BLIND_RSA, Origin, BlindRSAMode } from "@cloudflare/privacypass-ts/lib/src/pub_verif_token.js";
import { Token } from "@cloudflare/privacypass-ts/lib/src/auth_scheme/private_token.js";
import { toHex } from "../../util/bytes.js";
import { TransparencyCode, TransparencyError } from "../errors.js";
import type { IssuerKey } from "./issuer.js";
import { equalBytes } from "../../util/bytes.js";

export interface SpentSet {
  /** Adds the nonce; false when it was already there. Must be atomic. */
  spend(nonceHex: string): Promise<boolean> | boolean;
}

export function memorySpentSet(): SpentSet {
  const seen = new Set<string>();
  return { spend: (n) => (seen.has(n) ? false : (seen.add(n), true)) };
}

const HEADER = /^PrivateToken\s+token="?([A-Za-z0-9_-]+={0,2})"?$/;

export function isTokenAuthorization(header: string | undefined): boolean {
  return header !== undefined && /^PrivateToken\s/i.test(header);
}

export class TokenRedeemer {
  private readonly origin = new Origin(BlindRSAMode.PSS);

  constructor(
    private readonly key: IssuerKey,
    private readonly spent: SpentSet = memorySpentSet(),
  ) {}

  /** Verifies and spends the token in `header`; returns a per-token id (never linked to a payer). */
  async redeem(header: string): Promise<string> {
    const m = HEADER.exec(header.trim());
    if (!m?.[1]) throw new TransparencyError(TransparencyCode.TOKEN_INVALID, "send Authorization: PrivateToken token=<base64url>");
    let token: Token;
    try {
      token = Token.deserialize(BLIND_RSA, new Uint8Array(Buffer.from(m[1], "base64url")));
    } catch (cause) {
      throw new TransparencyError(TransparencyCode.TOKEN_INVALID, "not a type-2 token", { cause });
    }
    if (!equalBytes(token.authInput.tokenKeyId, this.key.keyId)) throw new TransparencyError(TransparencyCode.TOKEN_ISSUER_UNKNOWN, "the token is for another issuer key (another epoch?)");
    let ok = false;
    try {
      ok = await this.origin.verify(token, this.key.verifyKey);
    } catch {
      ok = false;
    }
    if (!ok) throw new TransparencyError(TransparencyCode.TOKEN_INVALID, "the token's signature does not verify");
    const nonce = toHex(token.authInput.nonce);
    if (!(await this.spent.spend(nonce))) throw new TransparencyError(TransparencyCode.TOKEN_SPENT, "this token was already redeemed");
    return nonce.slice(0, 32);
  }
}
