/**
 * What a key broker does with a chain: the owner's policy is the registration document
 * whose SHA-256 is on chain now (never the node's claim, nor an older document the broker
 * happens to hold); a node the owner revoked on chain gets nothing; and a share leaves the
 * broker only once its release is an on-chain event (fail closed: no event, no share).
 */
import { createHash } from "node:crypto";
import { isCloisterError } from "../../errors.js";
import { modelId, type EvmAddress, type Hex32 } from "../../ledger/typed-data.js";
import type { Signer } from "../../seal/signing.js";
import { KmsCode, KmsError } from "../codes.js";
import type { Lease } from "../lease.js";
import type { OpenedRegistration } from "../registration.js";
import type { ChainRelease, ModelChain } from "./model-registry.js";

export interface BrokerChain {
  readonly chainId: number;
  readonly address: EvmAddress;
  /** Throws unless `reg` is exactly the registration on chain now (owner, sequence, digest, hashes). */
  checkRegistration(reg: OpenedRegistration): Promise<void>;
  /** Throws KMS_NODE_REVOKED when the owner revoked `node` on chain. */
  checkNode(reg: OpenedRegistration, node: string): Promise<void>;
  /** Logs the release as a KeyReleased event, signed by the broker's attested key; returns the tx hash. */
  record(reg: OpenedRegistration, lease: Lease, leaseText: string): Promise<Hex32>;
}

const hex32 = (hex: string): Hex32 => `0x${hex}` as Hex32;

function chainError(e: unknown, what: string): KmsError {
  if (e instanceof KmsError) return e;
  const revert = isCloisterError(e) && e.details && typeof e.details["revert"] === "string" ? e.details["revert"] : null;
  if (revert === "NodeIsRevoked") return new KmsError(KmsCode.KMS_NODE_REVOKED, "the owner revoked this node on chain");
  if (revert === "NotCurrentRegistration" || revert === "UnknownModel") return new KmsError(KmsCode.KMS_POLICY_DIGEST_MISMATCH, "the registration changed on chain during the release");
  if (revert === "NotBroker") return new KmsError(KmsCode.KMS_BROKER_NOT_LISTED, "the owner did not list this broker on chain for this model");
  return new KmsError(KmsCode.KMS_CHAIN_UNAVAILABLE, `${what}: ${isCloisterError(e) ? `${e.code}: ${e.message}` : "the chain is unreachable"}`, { cause: e });
}

export function createBrokerChain(chain: ModelChain, signer: Signer): BrokerChain {
  if (!signer.signDigest) throw new KmsError(KmsCode.KMS_STATE_INVALID, "a broker on a chain needs an ecdsa identity");
  const signDigest = signer.signDigest.bind(signer);
  return {
    chainId: chain.chainId,
    address: chain.address,
    async checkRegistration(reg) {
      const r = reg.registration;
      let m: Awaited<ReturnType<ModelChain["model"]>>;
      try {
        m = await chain.model(r.model_id);
      } catch (e) {
        throw chainError(e, "reading the model's registration on chain");
      }
      if (!m) throw new KmsError(KmsCode.KMS_MODEL_NOT_ON_CHAIN, `model "${r.model_id}" is not registered on chain ${chain.chainId} (cloister model register --chain)`);
      if (m.owner !== r.owner) throw new KmsError(KmsCode.KMS_POLICY_DIGEST_MISMATCH, `model "${r.model_id}" belongs to ${m.owner} on chain, not to ${r.owner}`);
      if (m.policyDigest !== hex32(reg.digest) || m.sequence !== BigInt(r.sequence)) {
        throw new KmsError(KmsCode.KMS_POLICY_DIGEST_MISMATCH, `the registration document (sequence ${r.sequence}, sha256 ${reg.digest}) is not the one on chain (sequence ${m.sequence}, ${m.policyDigest.slice(2)})`);
      }
      if (m.plaintextSha256 !== hex32(r.plaintext_sha256) || m.sealedSha256 !== hex32(r.sealed_sha256)) {
        throw new KmsError(KmsCode.KMS_POLICY_DIGEST_MISMATCH, "the document's file hashes differ from the ones registered on chain");
      }
    },
    async checkNode(reg, node) {
      let revoked: boolean;
      try {
        revoked = await chain.isRevoked(reg.registration.model_id, node);
      } catch (e) {
        throw chainError(e, "reading revocations on chain");
      }
      if (revoked) throw new KmsError(KmsCode.KMS_NODE_REVOKED, `the owner revoked node ${node} on chain`);
    },
    async record(reg, lease, leaseText) {
      const release: ChainRelease = {
        model: modelId(lease.model_id),
        node: lease.node as EvmAddress,
        sequence: BigInt(lease.registration_sequence),
        policyDigest: hex32(reg.digest),
        shareIndex: lease.share_index,
        expiresAt: BigInt(Math.floor(Date.parse(lease.expires_at) / 1000)),
        leaseHash: hex32(createHash("sha256").update(leaseText, "utf8").digest("hex")),
      };
      const sig = signDigest(Buffer.from(chain.releaseDigest(release).slice(2), "hex"));
      try {
        return await chain.recordRelease(release, `0x${sig.replace(/^0x/, "")}` as Hex32);
      } catch (e) {
        throw chainError(e, "logging the release on chain");
      }
    },
  };
}
