/**
 * The client's side of Privacy Pass (RFC 9578 §6): blind, send, unblind, keep. Tokens
 * are bought with an API key (the payer is known to the issuer) and spent without it
 * (the redeemer learns nothing that links the request to that payer).
 */
import { Client, BlindRSAMode } from "@cloudflare/privacypass-ts/lib/src/pub_verif_token.js";
import { TokenChallenge } from "@cloudflare/privacypass-ts/lib/src/auth_scheme/private_token.js";
import { TransparencyCode, TransparencyError } from "../errors.js";
import { ISSUER_NAME, TOKEN_TYPE } from "./issuer.js";

export interface TokenWalletOptions {
  /** The node's API base URL, e.g. http://127.0.0.1:8080/v1 */
  readonly baseURL: string;
  /** The payer's API key, used only to buy. */
  readonly apiKey: string;
  readonly fetch?: typeof fetch;
}

interface Directory {
  "issuer-request-uri": string;
  "token-keys": { "token-type": number; "token-key": string }[];
}

export class TokenWallet {
  private readonly tokens: string[] = [];
  private readonly net: typeof fetch;
  constructor(private readonly opts: TokenWalletOptions) {
    this.net = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  get size(): number {
    return this.tokens.length;
  }

  /** Buys `n` tokens (one blinded request each). */
  async buy(n: number): Promise<void> {
    const base = this.opts.baseURL.replace(/\/+$/, "");
    const dirRes = await this.net(`${base}/tokens/issuer`);
    if (!dirRes.ok) throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, `no token issuer (HTTP ${dirRes.status})`);
    const dir = (await dirRes.json()) as Directory;
    const key = dir["token-keys"].find((k) => k["token-type"] === TOKEN_TYPE);
    if (!key) throw new TransparencyError(TransparencyCode.TOKEN_ISSUER_UNKNOWN, "the issuer publishes no type-2 key");
    const publicKey = new Uint8Array(Buffer.from(key["token-key"], "base64url"));
    const challenge = new TokenChallenge(TOKEN_TYPE, ISSUER_NAME, new Uint8Array(0));
    for (let i = 0; i < n; i++) {
      const client = new Client(BlindRSAMode.PSS);
      const req = await client.createTokenRequest(challenge, publicKey);
      const res = await this.net(`${base}/tokens/issue`, {
        method: "POST",
        headers: { authorization: `Bearer ${this.opts.apiKey}`, "content-type": "application/private-token-request" },
        body: req.serialize().slice(),
      });
      if (!res.ok) throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, `the issuer refused (HTTP ${res.status})`);
      const token = await client.finalize(client.deserializeTokenResponse(new Uint8Array(await res.arrayBuffer())));
      this.tokens.push(Buffer.from(token.serialize()).toString("base64url"));
    }
  }

  /** An Authorization header value spending one token; throws when the wallet is empty. */
  spend(): string {
    const t = this.tokens.shift();
    if (!t) throw new TransparencyError(TransparencyCode.TOKEN_INVALID, "no tokens left: buy more");
    return `PrivateToken token="${t}"`;
  }
}
