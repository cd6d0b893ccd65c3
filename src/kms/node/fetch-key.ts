/**
 * The node's side of a release: for each broker, attest it (src/client), ask for a
 * challenge, answer with fresh evidence whose report_data binds a fresh X25519 key and
 * that nonce, check the broker's signed lease, and open the share with the fresh key.
 * With t shares from t brokers, combine (shamir-secret-sharing) and check the result is
 * the registered key (its key id) — fewer than t shares, or shares of another key, fail.
 */
import { combine } from "shamir-secret-sharing";
import type { TeeProvider } from "../../attest/provider.js";
import { buildAttestationReport } from "../../attest/report/build.js";
import type { ReportInfo } from "../../attest/report/format.js";
import { generateE2EKeyPair, e2eKeyId } from "../../seal/e2e/suite.js";
import { dataKeyId } from "../file/keys.js";
import { recoverAddress, type Signer } from "../../seal/signing.js";
import { KmsCode, KmsError } from "../codes.js";
import { attestBroker, postBroker, type BrokerTrust } from "../attest-broker.js";
import { openShare, RELEASE_INFO } from "../hpke.js";
import { LEASE_PREFIX, leaseSchema, releaseResponseSchema, type Lease } from "../lease.js";
import { openRegistration, type OpenedRegistration } from "../registration.js";

export interface NodeIdentity {
  readonly tee: TeeProvider;
  /** The node's per-boot ecdsa signer: the address its users pin and an owner may revoke. */
  readonly signer: Signer;
  readonly info: ReportInfo;
}

export interface ReleasedShare {
  readonly broker: string;
  readonly lease: Lease;
  readonly share: Uint8Array;
  readonly registration: OpenedRegistration;
}

export interface FetchedKey {
  readonly dataKey: Uint8Array;
  readonly leases: readonly Lease[];
  /** The earliest expiry among the leases used: renew before it. */
  readonly expiresAt: Date;
  /** The newest registration among the brokers that released. */
  readonly registration: OpenedRegistration;
  readonly refusals: readonly { broker: string; code: string; message: string }[];
}

export async function requestShare(broker: string, modelId: string, node: NodeIdentity, trust: BrokerTrust): Promise<ReleasedShare> {
  const pinned = await attestBroker(broker, trust);
  const challenge = (await postBroker(broker, "/v1/kms/challenge", { model_id: modelId }, trust.fetch)) as { nonce?: unknown };
  if (typeof challenge.nonce !== "string" || !/^[0-9a-f]{64}$/.test(challenge.nonce)) throw new KmsError(KmsCode.KMS_RESPONSE_INVALID, `broker ${broker} sent no nonce`);
  const ephemeral = generateE2EKeyPair();
  try {
    const report = await buildAttestationReport(node.tee, {
      nonce: Uint8Array.from(Buffer.from(challenge.nonce, "hex")),
      signingAlgo: "ecdsa",
      signingPublicKey: node.signer.publicKey,
      e2ePublicKey: ephemeral.publicKey,
      info: node.info,
    });
    const raw = await postBroker(broker, "/v1/kms/release", { model_id: modelId, nonce: challenge.nonce, report }, trust.fetch);
    const res = releaseResponseSchema.safeParse(raw);
    if (!res.success) throw new KmsError(KmsCode.KMS_RESPONSE_INVALID, `broker ${broker} answered a release without a lease and a sealed share`);
    // The lease must be signed by the broker we attested, for us, for this request.
    let signer: string;
    try {
      signer = recoverAddress(LEASE_PREFIX + res.data.lease, res.data.lease_signature);
    } catch (cause) {
      throw new KmsError(KmsCode.KMS_RESPONSE_INVALID, `broker ${broker}'s lease signature does not verify`, { cause });
    }
    const lease = leaseSchema.safeParse(JSON.parse(res.data.lease));
    if (!lease.success || signer !== pinned.signingAddress || lease.data.broker !== pinned.signingAddress) throw new KmsError(KmsCode.KMS_RESPONSE_INVALID, `broker ${broker}'s lease is not signed by its attested key`);
    const l = lease.data;
    if (l.model_id !== modelId || l.nonce !== challenge.nonce || l.node !== node.signer.address || l.recipient_key_id !== e2eKeyId(ephemeral.publicKey)) {
      throw new KmsError(KmsCode.KMS_RESPONSE_INVALID, `broker ${broker}'s lease is for another request`);
    }
    const registration = openRegistration(res.data.registration);
    if (registration.digest !== l.registration_sha256 || registration.registration.model_id !== modelId) throw new KmsError(KmsCode.KMS_RESPONSE_INVALID, `broker ${broker}'s lease names another registration`);
    const share = await openShare(ephemeral.privateKey, res.data.share, RELEASE_INFO, res.data.lease, KmsCode.KMS_RESPONSE_INVALID);
    return { broker, lease: l, share, registration };
  } finally {
    ephemeral.privateKey.fill(0);
  }
}

export async function fetchModelKey(opts: { brokers: readonly string[]; modelId: string; keyId: string; node: NodeIdentity; trust: BrokerTrust }): Promise<FetchedKey> {
  const results = await Promise.allSettled(opts.brokers.map((b) => requestShare(b, opts.modelId, opts.node, opts.trust)));
  const got: ReleasedShare[] = [];
  const refusals: { broker: string; code: string; message: string }[] = [];
  results.forEach((r, i) => {
    if (r.status === "fulfilled") got.push(r.value);
    else refusals.push({ broker: opts.brokers[i]!, code: r.reason instanceof KmsError ? r.reason.code : "UNKNOWN", message: r.reason instanceof Error ? r.reason.message : String(r.reason) });
  });
  // Only shares of this key, of the newest registration's split (older splits were
  // replaced by a reshare and never combine with it), one per share index.
  const ofKey = got.filter((s) => s.lease.key_id === opts.keyId && s.registration.registration.key_id === opts.keyId);
  const newest = [...ofKey].sort((a, b) => b.registration.registration.sequence - a.registration.registration.sequence)[0];
  const byIndex = new Map(ofKey.filter((s) => s.registration.registration.split_id === newest?.registration.registration.split_id).map((s) => [s.lease.share_index, s]));
  const threshold = newest?.registration.registration.threshold ?? Number.POSITIVE_INFINITY;
  const wipe = (): void => got.forEach((s) => s.share.fill(0));
  if (!newest || byIndex.size < threshold) {
    wipe();
    const codes = refusals.map((r) => r.code);
    throw new KmsError(KmsCode.KMS_QUORUM_NOT_REACHED, `${byIndex.size} of ${opts.brokers.length} brokers released a share of "${opts.modelId}"; ${Number.isFinite(threshold) ? threshold : "a threshold of them"} are needed (${refusals.map((r) => `${r.broker}: ${r.code}`).join("; ") || "no refusals"})`, { details: { refusals: codes } });
  }
  const used = [...byIndex.values()].slice(0, threshold);
  const dataKey = await combine(used.map((s) => Uint8Array.from(s.share)));
  wipe();
  if (dataKeyId(dataKey) !== opts.keyId) {
    dataKey.fill(0);
    throw new KmsError(KmsCode.KMS_KEY_MISMATCH, "the released shares combine into another key than the registered one");
  }
  const expiresAt = new Date(Math.min(...used.map((s) => Date.parse(s.lease.expires_at))));
  return { dataKey, leases: used.map((s) => s.lease), expiresAt, registration: newest.registration, refusals };
}
