/**
 * The owner's side: split the data key t-of-n (shamir-secret-sharing, audited), attest
 * every broker first, and seal share i to broker i's attested X25519 key, bound to the
 * model, the data key id, that broker's key and this exact registration.
 */
import { split } from "shamir-secret-sharing";
import { dataKeyId } from "../file/keys.js";
import { KmsCode, KmsError } from "../codes.js";
import { attestBroker, postBroker, type BrokerTrust } from "../attest-broker.js";
import { sealShare, UPLOAD_INFO, uploadAad } from "../hpke.js";
import { openRegistration } from "../registration.js";
import type { SignedDocument } from "../signed.js";

export interface UploadResult {
  readonly broker: string;
  readonly brokerAddress: string;
  readonly shareIndex: number;
  readonly simulated: boolean;
}

export async function uploadShares(opts: { registration: SignedDocument; dataKey: Uint8Array; brokers: readonly string[]; trust: BrokerTrust }): Promise<UploadResult[]> {
  const reg = openRegistration(opts.registration);
  const r = reg.registration;
  if (opts.brokers.length !== r.shares) throw new KmsError(KmsCode.KMS_BAD_REQUEST, `the registration names ${r.shares} shares but ${opts.brokers.length} brokers were given`);
  if (dataKeyId(opts.dataKey) !== r.key_id) throw new KmsError(KmsCode.KMS_KEY_MISMATCH, "this data key is not the registered one (key id differs)");
  // Attest all brokers before any share exists outside this process.
  const pinned = await Promise.all(opts.brokers.map((b) => attestBroker(b, opts.trust)));
  const secret = Uint8Array.from(opts.dataKey);
  const shares = await split(secret, r.shares, r.threshold);
  secret.fill(0);
  try {
    const out: UploadResult[] = [];
    for (const [i, broker] of opts.brokers.entries()) {
      const p = pinned[i]!;
      const shareIndex = i + 1;
      const sealed = await sealShare(p.e2ePublicKey, shares[i]!, UPLOAD_INFO, uploadAad(r.model_id, r.key_id, p.e2eKeyId, reg.digest, shareIndex));
      await postBroker(broker, "/v1/kms/shares", { registration: reg.doc, share_index: shareIndex, share: sealed }, opts.trust.fetch);
      out.push({ broker, brokerAddress: p.signingAddress, shareIndex, simulated: p.simulated });
    }
    return out;
  } finally {
    for (const s of shares) s.fill(0);
  }
}

/** Sends a newer registration (policy change, revocation) to every broker; returns per-broker outcomes. */
export async function updateRegistration(opts: { registration: SignedDocument; brokers: readonly string[]; trust: BrokerTrust }): Promise<{ broker: string; ok: boolean; code?: string }[]> {
  openRegistration(opts.registration);
  return Promise.all(
    opts.brokers.map(async (broker) => {
      try {
        await attestBroker(broker, opts.trust);
        await postBroker(broker, "/v1/kms/registrations", { registration: opts.registration }, opts.trust.fetch);
        return { broker, ok: true };
      } catch (e) {
        return { broker, ok: false, code: e instanceof KmsError ? e.code : "UNKNOWN" };
      }
    }),
  );
}
