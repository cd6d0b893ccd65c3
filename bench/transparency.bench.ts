/**
 * Transparency and unlinkability costs, each as a ratio to a baseline in the same run:
 *   OHTTP         a verified, E2E-sealed chat through a relay, vs the same chat direct
 *   tokens        issue (blind sign, node:crypto raw RSA + RSAVP1) and redeem (verify + spend)
 *                 per second, vs one bare RSA-2048 private operation
 *   logs          Merkle append and inclusion-proof verification per second, vs one SHA-256
 */
import { Hono } from "hono";
import { constants, createHash, privateDecrypt } from "node:crypto";
import { BlindRSAMode, Client } from "@cloudflare/privacypass-ts/lib/src/pub_verif_token.js";
import { TokenChallenge } from "@cloudflare/privacypass-ts/lib/src/auth_scheme/private_token.js";
import { createVerifiedFetch } from "../src/client/verified-fetch.js";
import type { GatewayEnv } from "../src/gateway/context.js";
import { startServer } from "../src/gateway/server.js";
import { inclusionProof, leafHash, verifyInclusion } from "../src/transparency/merkle.js";
import { ohttpRelayHandler } from "../src/transparency/ohttp/relay.js";
import { generateIssuerKey, issueToken, ISSUER_NAME, TOKEN_TYPE } from "../src/transparency/tokens/issuer.js";
import { TokenRedeemer } from "../src/transparency/tokens/redeemer.js";
import { MerkleTree } from "../src/transparency/tree.js";
import { startTestNode } from "../test/e2e/client-fixtures.js";
import { fmt, mean, timeIt } from "./stats.js";

async function ohttp(): Promise<void> {
  const node = await startTestNode();
  const forward = ohttpRelayHandler({ gatewayUrl: node.url });
  const app = new Hono<GatewayEnv>();
  app.all("*", (c) => forward(c.req.raw));
  const relay = await startServer(app, { host: "127.0.0.1", port: 0 });
  const baseURL = `${node.url}/v1`;
  const direct = createVerifiedFetch({ baseURL, allowSimulated: true });
  const relayed = createVerifiedFetch({ baseURL, allowSimulated: true, relayUrl: relay.url });
  const body = JSON.stringify({ model: "fake", messages: [{ role: "user", content: "benchmark prompt ".repeat(20) }] });
  const post = (f: typeof fetch) => async () => (await f(`${baseURL}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body })).arrayBuffer();
  try {
    for (let i = 0; i < 5; i++) await Promise.all([post(direct)(), post(relayed)()]);
    const d: number[] = [];
    const r: number[] = [];
    for (let i = 0; i < 40; i++) {
      d.push(...(await timeIt(1, post(direct))));
      r.push(...(await timeIt(1, post(relayed))));
    }
    console.log(`OHTTP round trip (verified + E2E chat, fake backend): direct ${fmt(mean(d))}, through a relay ${fmt(mean(r))}, ratio ${(mean(r) / mean(d)).toFixed(2)}x`);
  } finally {
    await relay.close({ drainMs: 10 });
    await node.close();
  }
}

async function tokens(): Promise<void> {
  const key = await generateIssuerKey();
  const challenge = new TokenChallenge(TOKEN_TYPE, ISSUER_NAME, new Uint8Array(0));
  const clients = await Promise.all(Array.from({ length: 60 }, async () => {
    const c = new Client(BlindRSAMode.PSS);
    return { c, req: (await c.createTokenRequest(challenge, key.spki)).serialize() };
  }));
  const blinded = Buffer.from(clients[0]!.req.slice(3));
  const bare = await timeIt(60, () => privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, blinded));
  const responses: Uint8Array[] = [];
  let i = 0;
  const issue = await timeIt(60, () => responses.push(issueToken(key, clients[i++]!.req)));
  const headers = await Promise.all(clients.map(async ({ c }, j) => `PrivateToken token="${Buffer.from((await c.finalize(c.deserializeTokenResponse(responses[j]!))).serialize()).toString("base64url")}"`));
  const redeemer = new TokenRedeemer(key);
  let k = 0;
  const redeem = await timeIt(60, () => redeemer.redeem(headers[k++]!));
  console.log(`tokens: issue ${(1000 / mean(issue)).toFixed(0)}/s (${fmt(mean(issue))}, ${(mean(issue) / mean(bare)).toFixed(2)}x a bare RSA-2048 private op), redeem ${(1000 / mean(redeem)).toFixed(0)}/s (${fmt(mean(redeem))})`);
}

async function logs(): Promise<void> {
  const n = 100_000;
  const data = Array.from({ length: n }, (_, j) => Buffer.from(`receipt ${j}`));
  const hashOnly = await timeIt(1, () => data.forEach((d) => createHash("sha256").update(d).digest()));
  const tree = new MerkleTree();
  const append = await timeIt(1, () => data.forEach((d) => tree.append(leafHash(d))));
  const root = tree.root();
  const proofs = Array.from({ length: 2000 }, (_, j) => ({ j: (j * 7919) % n, p: inclusionProof(tree, (j * 7919) % n) }));
  const leaves = proofs.map(({ j }) => tree.leaf(j));
  const verify = await timeIt(1, () => proofs.forEach(({ j, p }, x) => verifyInclusion(leaves[x]!, j, n, p, root)));
  console.log(`log append ${(n / (append[0]! / 1000)).toFixed(0)}/s (${(append[0]! / hashOnly[0]!).toFixed(1)}x node:crypto SHA-256 of the same entries), inclusion proof verify ${(proofs.length / (verify[0]! / 1000)).toFixed(0)}/s at ${n} leaves`);
}

export async function run(): Promise<void> {
  await ohttp();
  await tokens();
  await logs();
}
