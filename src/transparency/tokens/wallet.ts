/**
 * The client's side of Privacy Pass (RFC 9578 §6): blind, send, unblind, keep. Tokens
 * are bought with an API key (the payer is known to the issuer) and spent without it
 * (the redeemer learns nothing that links the request to that payer).
 */
import { Client, BlindRSAMode } from "@cloudflare/privacypass-ts/lib/src/pub_verif_token.js";
import { TokenChallenge } from "@cloudflare/privacypass-ts/lib/src/auth_scheme/private_token.js";
import { TransparencyCode, TransparencyError } from "../errors.js";
import { ISSUER_NAME, TOKEN_TYPE } from "./issuer.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "../../util/bytes.js";
import { ReleaseLog, type ReleaseLogOptions } from "../release-log.js";
import { recoverTypedDataAddress } from "viem";
import type { SignedPermit, SignedReceipt } from "../../ledger/chain.js";
import type { Deployment } from "../../ledger/sign.js";
import { domain, RECEIPT_TYPES } from "../../ledger/typed-data.js";
import { buyRequestJson, parseBuyResponse, TOKEN_MODEL } from "./purchase-wire.js";

export interface TokenWalletOptions {
  /** The node's API base URL, e.g. http://127.0.0.1:8080/v1 */
  readonly baseURL: string;
  /** The payer's API key, used only to buy (or buy through the escrow: ./escrow-purchase.ts). */
  readonly apiKey?: string;
  /**
   * The release log that must publish the issuer's key (./issuer-statement.ts): a key it
   * does not publish could be one made for this user alone, so it is refused
   * (TOKEN_ISSUER_UNPUBLISHED) before anything is bought.
   */
  readonly releaseLog: ReleaseLog | ReleaseLogOptions;
  readonly fetch?: typeof fetch;
  /**
   * Sends the purchases (POST /tokens/issue with the API key, POST /tokens/buy with a
   * permit) through this fetch instead: pass the verifying fetch (createVerifiedFetch) to
   * seal them to the attested node, so the API key never crosses a proxy in the clear, as
   * a --require-e2ee node requires. The issuer directory is a public GET either way (the
   * release log, not the channel, vouches for its key).
   */
  readonly sealedFetch?: typeof fetch;
}

/** The issuer's published type-2 key, checked against the release log. */
export interface IssuerKeyInfo {
  readonly publicKey: Uint8Array;
  readonly keyId: string;
  readonly requestUri: string;
}

interface Directory {
  "issuer-request-uri": string;
  "token-keys": { "token-type": number; "token-key": string }[];
}

export class TokenWallet {
  private readonly tokens: string[] = [];
  private readonly net: typeof fetch;
  private readonly log: ReleaseLog;
  constructor(private readonly opts: TokenWalletOptions) {
    this.net = opts.fetch ?? globalThis.fetch.bind(globalThis);
    this.log = opts.releaseLog instanceof ReleaseLog ? opts.releaseLog : new ReleaseLog(opts.releaseLog);
  }

  /** The issuer directory's type-2 key, refused unless the release log publishes it. */
  async issuerKey(): Promise<IssuerKeyInfo> {
    const base = this.opts.baseURL.replace(/\/+$/, "");
    const dirRes = await this.net(`${base}/tokens/issuer`);
    if (!dirRes.ok) throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, `no token issuer (HTTP ${dirRes.status})`);
    const dir = (await dirRes.json()) as Directory;
    const keys = (dir["token-keys"] ?? []).filter((k) => k["token-type"] === TOKEN_TYPE);
    const key = keys[0];
    if (!key || keys.length !== 1) throw new TransparencyError(TransparencyCode.TOKEN_ISSUER_UNKNOWN, "the issuer must publish exactly one type-2 key");
    const publicKey = new Uint8Array(Buffer.from(key["token-key"], "base64url"));
    const keyId = toHex(sha256(publicKey));
    const published = await this.log.findIssuerKey(keyId);
    if (!published) throw new TransparencyError(TransparencyCode.TOKEN_ISSUER_UNPUBLISHED, `the issuer key ${keyId.slice(0, 16)}… is not published in ${this.log.origin}: it could be a key for one user`);
    return { publicKey, keyId, requestUri: dir["issuer-request-uri"] };
  }

  /** Blinds `n` token requests for `key`; `finish` unblinds the issuer's responses into the wallet. */
  async prepare(key: IssuerKeyInfo, n: number): Promise<{ requests: Uint8Array[]; finish(responses: readonly Uint8Array[]): Promise<void> }> {
    const challenge = new TokenChallenge(TOKEN_TYPE, ISSUER_NAME, new Uint8Array(0));
    const clients: Client[] = [];
    const requests: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const client = new Client(BlindRSAMode.PSS);
      requests.push((await client.createTokenRequest(challenge, key.publicKey)).serialize());
      clients.push(client);
    }
    return {
      requests,
      finish: async (responses) => {
        if (responses.length !== clients.length) throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, `asked for ${clients.length} tokens, got ${responses.length}`);
        const out: string[] = [];
        for (const [i, client] of clients.entries()) {
          // finalize checks the unblinded signature under the published key: a bad one throws.
          const token = await client.finalize(client.deserializeTokenResponse(responses[i] as Uint8Array)).catch((cause: unknown) => {
            throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, "the issuer's signature does not verify under its published key", { cause });
          });
          out.push(Buffer.from(token.serialize()).toString("base64url"));
        }
        this.tokens.push(...out);
      },
    };
  }

  get size(): number {
    return this.tokens.length;
  }

  /** Buys `n` tokens with the API key (one blinded request each). */
  async buy(n: number): Promise<void> {
    const apiKey = this.opts.apiKey;
    if (!apiKey) throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, "buying with an API key needs apiKey (or buy through the escrow)");
    const key = await this.issuerKey();
    const batch = await this.prepare(key, n);
    const base = this.opts.baseURL.replace(/\/+$/, "");
    const responses: Uint8Array[] = [];
    for (const req of batch.requests) {
      const res = await (this.opts.sealedFetch ?? this.net)(`${base}/tokens/issue`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/private-token-request" },
        body: req.slice(),
      });
      if (!res.ok) throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, `the issuer refused (HTTP ${res.status})`);
      responses.push(new Uint8Array(await res.arrayBuffer()));
    }
    await batch.finish(responses);
  }

  /**
   * Buys `n` tokens through the market escrow: the spend permit pays, no API key. Returns the
   * enclave's escrow receipt for the batch, checked: it bills exactly `n` tokens under the
   * token model, for this permit, and is signed by the enclave it names.
   */
  async buyWithPermit(n: number, permit: SignedPermit, escrow: Deployment): Promise<SignedReceipt> {
    const key = await this.issuerKey();
    const batch = await this.prepare(key, n);
    const base = this.opts.baseURL.replace(/\/+$/, "");
    const res = await (this.opts.sealedFetch ?? this.net)(`${base}/tokens/buy`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(buyRequestJson(permit, batch.requests)) });
    if (!res.ok) {
      const code = ((await res.json().catch(() => null)) as { error?: { code?: string } } | null)?.error?.code ?? "unknown";
      throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, `the issuer refused the purchase (HTTP ${res.status}, ${code})`);
    }
    const { responses, receipt } = parseBuyResponse(await res.json());
    const r = receipt.receipt;
    if (r.permitId !== permit.id.toLowerCase() || r.model !== TOKEN_MODEL || r.promptTokens !== BigInt(n) || r.completionTokens !== 0n) {
      throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, "the escrow receipt does not bill exactly these tokens on this permit");
    }
    const signer = await recoverTypedDataAddress({ domain: domain("escrow", escrow.chainId, escrow.address), types: RECEIPT_TYPES, primaryType: "Receipt", message: r, signature: receipt.signature });
    if (signer.toLowerCase() !== r.enclave.toLowerCase()) throw new TransparencyError(TransparencyCode.TOKEN_ISSUE_FAILED, "the escrow receipt is not signed by the enclave it names");
    await batch.finish(responses);
    return receipt;
  }

  /** An Authorization header value spending one token; throws when the wallet is empty. */
  spend(): string {
    const t = this.tokens.shift();
    if (!t) throw new TransparencyError(TransparencyCode.TOKEN_INVALID, "no tokens left: buy more");
    return `PrivateToken token="${t}"`;
  }
}
