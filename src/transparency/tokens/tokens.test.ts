import { BlindRSAMode, Client } from "@cloudflare/privacypass-ts/lib/src/pub_verif_token.js";
import { TokenChallenge } from "@cloudflare/privacypass-ts/lib/src/auth_scheme/private_token.js";
import { beforeAll, describe, expect, it } from "vitest";
import { TransparencyCode } from "../errors.js";
import { generateIssuerKey, issueToken, ISSUER_NAME, TOKEN_TYPE, type IssuerKey } from "./issuer.js";
import { TokenRedeemer } from "./redeemer.js";

let key: IssuerKey;
let other: IssuerKey;
beforeAll(async () => {
  [key, other] = await Promise.all([generateIssuerKey(), generateIssuerKey()]);
});

async function mint(k: IssuerKey): Promise<string> {
  const client = new Client(BlindRSAMode.PSS);
  const req = await client.createTokenRequest(new TokenChallenge(TOKEN_TYPE, ISSUER_NAME, new Uint8Array(0)), k.spki);
  const token = await client.finalize(client.deserializeTokenResponse(issueToken(k, req.serialize())));
  return `PrivateToken token="${Buffer.from(token.serialize()).toString("base64url")}"`;
}

describe("Privacy Pass tokens (RFC 9578 type 2, blind RSA)", () => {
  it("accepts a token once and refuses it the second time", async () => {
    const r = new TokenRedeemer(key);
    const t = await mint(key);
    await expect(r.redeem(t)).resolves.toMatch(/^[0-9a-f]{32}$/);
    await expect(r.redeem(t)).rejects.toMatchObject({ code: TransparencyCode.TOKEN_SPENT });
  });

  it("refuses a forged token (authenticator changed) and a token of another issuer key", async () => {
    const r = new TokenRedeemer(key);
    const t = await mint(key);
    const raw = Buffer.from(/token="([^"]+)"/.exec(t)?.[1] ?? "", "base64url");
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1;
    await expect(r.redeem(`PrivateToken token="${raw.toString("base64url")}"`)).rejects.toMatchObject({ code: TransparencyCode.TOKEN_INVALID });
    await expect(r.redeem(await mint(other))).rejects.toMatchObject({ code: TransparencyCode.TOKEN_ISSUER_UNKNOWN });
    await expect(r.redeem("PrivateToken token=%%%")).rejects.toMatchObject({ code: TransparencyCode.TOKEN_INVALID });
  });

  it("signs only requests for its own key and never a blinded value at or above the modulus", async () => {
    const client = new Client(BlindRSAMode.PSS);
    const req = await client.createTokenRequest(new TokenChallenge(TOKEN_TYPE, ISSUER_NAME, new Uint8Array(0)), other.spki);
    expect(() => issueToken(key, req.serialize())).toThrow(expect.objectContaining({ code: TransparencyCode.TOKEN_ISSUER_UNKNOWN }));
    const bad = req.serialize();
    bad[0] = 0;
    bad[1] = 2;
    bad[2] = key.keyId[31] as number;
    bad.fill(0xff, 3);
    expect(() => issueToken(key, bad)).toThrow(expect.objectContaining({ code: TransparencyCode.TOKEN_ISSUE_FAILED }));
  });

  it("a blind signature reveals nothing of the token: the issuer's view and the redeemed token share no bytes of the nonce", async () => {
    const client = new Client(BlindRSAMode.PSS);
    const req = await client.createTokenRequest(new TokenChallenge(TOKEN_TYPE, ISSUER_NAME, new Uint8Array(0)), key.spki);
    const seen = Buffer.from(req.serialize());
    const token = await client.finalize(client.deserializeTokenResponse(issueToken(key, req.serialize())));
    expect(seen.includes(Buffer.from(token.authInput.nonce))).toBe(false);
    expect(seen.includes(Buffer.from(token.authenticator.slice(0, 16)))).toBe(false);
  });
});
