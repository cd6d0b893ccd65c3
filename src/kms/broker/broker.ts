/**
 * The key broker's logic, independent of HTTP: it holds owners' shares sealed under its
 * state key, answers attestation like a node (its keys bound in its own report), issues
 * release challenges, and releases a share only to a node whose fresh evidence answers
 * the challenge, verifies (src/attest, TCB status included) and satisfies the owner's
 * policy. Every upload, registration, release and refusal goes to the signed release log.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { z } from "zod";
import { AttestCode } from "../../attest/codes.js";
import type { TeeProvider } from "../../attest/provider.js";
import { buildAttestationReport } from "../../attest/report/build.js";
import type { AttestationReport } from "../../attest/report/format.js";
import type { ReportVerifyOptions } from "../../attest/report/options.js";
import { verifyAttestationReport } from "../../attest/verify.js";
import { generateE2EKeyPair, e2eKeyId } from "../../seal/e2e/suite.js";
import { createSigner, type Signer } from "../../seal/signing.js";
import { parseNonce } from "../../types.js";
import { fromHex, toHex } from "../../util/bytes.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { isCloisterError } from "../../errors.js";
import { KmsCode, KmsError } from "../codes.js";
import { openShare, RELEASE_INFO, sealShare, UPLOAD_INFO, uploadAad } from "../hpke.js";
import { LEASE_PREFIX, LEASE_TYPE, type Lease, type ReleaseResponse } from "../lease.js";
import { openRegistration, type OpenedRegistration } from "../registration.js";
import { signedDocumentSchema, type SignedDocument } from "../signed.js";
import { createBrokerChain, type BrokerChain } from "../chain/broker-chain.js";
import type { ModelChain } from "../chain/model-registry.js";
import { createNonceBook, type NonceBook } from "./nonces.js";
import { openReleaseLog, type ReleaseLog } from "./release-log.js";
import { loadSealedState, saveSealedState } from "./sealed-state.js";
import type { StateKey } from "./state-key.js";
import { ReceiptLog } from "../../transparency/receipt-log.js";
import { nodeTreeHashes } from "../../transparency/merkle-node.js";

export const BROKER_VERSION = "0.1.0";

const stateSchema = z.object({
  version: z.literal(1),
  identity: z.object({ signing_key: z.string(), hpke_key: z.string() }).strict(),
  models: z.record(z.object({ registration: signedDocumentSchema, share_index: z.number().int(), share: z.string() }).strict()),
});
type BrokerState = z.output<typeof stateSchema>;

export const uploadSchema = z.object({ registration: z.unknown(), share_index: z.number().int().min(1).max(255), share: z.object({ enc: z.string(), ciphertext: z.string() }).strict() }).strict();
export const registerSchema = z.object({ registration: z.unknown() }).strict();
export const challengeSchema = z.object({ model_id: z.string().min(1).max(256) }).strict();
export const releaseSchema = z.object({ model_id: z.string().min(1).max(256), nonce: z.string().regex(/^[0-9a-f]{64}$/), report: z.unknown() }).strict();

export interface BrokerOptions {
  readonly dataDir: string;
  readonly stateKey: StateKey;
  readonly tee: TeeProvider;
  readonly now?: () => Date;
  readonly nonceTtlMs?: number;
  /** Extra verifier options for node evidence (e.g. fetchCollateral for TCB status on hardware). */
  readonly verify?: Pick<ReportVerifyOptions, "fetchCollateral" | "collateral">;
  /**
   * The market's ModelRegistry: the owner's policy is then the document whose digest is on
   * chain, on-chain revocations apply, and every release is logged there before the share
   * is returned (src/kms/chain/broker-chain.ts).
   */
  readonly chain?: ModelChain;
}

export interface Broker {
  readonly signer: Signer;
  /** This boot's receipt log of key releases (src/transparency/receipt-log.ts). */
  readonly receipts: ReceiptLog;
  readonly hpkePublicKey: Uint8Array;
  readonly stateKey: StateKey;
  report(nonce: Uint8Array): Promise<AttestationReport>;
  upload(body: unknown): Promise<{ model_id: string; share_index: number; sequence: number }>;
  register(body: unknown): Promise<{ model_id: string; sequence: number }>;
  registration(modelId: string): SignedDocument;
  challenge(body: unknown): { nonce: string; expires_at: string };
  release(body: unknown): Promise<ReleaseResponse>;
  logText(): string;
}

function parse<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new KmsError(KmsCode.KMS_BAD_REQUEST, `body: ${i ? `${i.path.join(".") || "(root)"}: ${i.message}` : "invalid"}`);
  }
  return r.data;
}

/** Which refusal a failed verification is, most specific first. */
function refusalFor(codes: readonly string[]): KmsCode {
  if (codes.includes(AttestCode.NONCE_MISMATCH)) return KmsCode.KMS_EVIDENCE_NONCE_MISMATCH;
  if (codes.includes(AttestCode.SIMULATED_NOT_ALLOWED)) return KmsCode.KMS_SIMULATED_NOT_ALLOWED;
  if (codes.includes(AttestCode.MEASUREMENT_NOT_ALLOWED)) return KmsCode.KMS_MEASUREMENT_NOT_ALLOWED;
  if (codes.includes(AttestCode.TCB_STATUS_NOT_ALLOWED)) return KmsCode.KMS_TCB_STATUS_NOT_ALLOWED;
  return KmsCode.KMS_EVIDENCE_INVALID;
}

export function openBroker(opts: BrokerOptions): Broker {
  const now = opts.now ?? (() => new Date());
  const statePath = join(opts.dataDir, "kms-state.sealed");
  const loaded = loadSealedState(statePath, opts.stateKey.key);
  let state: BrokerState;
  if (loaded === null) {
    state = { version: 1, identity: { signing_key: toHex(secp256k1.utils.randomSecretKey()), hpke_key: toHex(generateE2EKeyPair().privateKey) }, models: {} };
    saveSealedState(statePath, opts.stateKey.key, state);
  } else {
    const r = stateSchema.safeParse(loaded);
    if (!r.success) throw new KmsError(KmsCode.KMS_STATE_INVALID, "the sealed broker state has an unknown shape");
    state = r.data;
  }
  const signer = createSigner("ecdsa", fromHex(state.identity.signing_key));
  const hpkePrivate = fromHex(state.identity.hpke_key);
  const hpkePublicKey = x25519.getPublicKey(hpkePrivate);
  const brokerKeyId = e2eKeyId(hpkePublicKey);
  // Every key release is also a leaf of this boot's receipt log (GET /v1/receipts/key-release:<seq>).
  const receipts = new ReceiptLog(`cloister-kms-receipts/${signer.address}`, nodeTreeHashes);
  const log: ReleaseLog = openReleaseLog(join(opts.dataDir, "kms-release-log.jsonl"), signer, now, receipts.record);
  const nonces: NonceBook = createNonceBook({ ...(opts.nonceTtlMs ? { ttlMs: opts.nonceTtlMs } : {}), now: () => now().getTime() });
  const save = (): void => saveSealedState(statePath, opts.stateKey.key, state);
  const chain: BrokerChain | null = opts.chain ? createBrokerChain(opts.chain, signer) : null;

  function held(modelId: string): { reg: OpenedRegistration; share: Uint8Array; shareIndex: number } {
    const m = state.models[modelId];
    if (!m) throw new KmsError(KmsCode.KMS_MODEL_UNKNOWN, `no share of model "${modelId}" at this broker`);
    return { reg: openRegistration(m.registration), share: fromHex(m.share), shareIndex: m.share_index };
  }

  /** A registration may replace the held one only from the same owner, for the same key, with a higher sequence. */
  function checkSuccessor(next: OpenedRegistration): void {
    const cur = state.models[next.registration.model_id];
    if (!cur) return;
    const prev = openRegistration(cur.registration).registration;
    if (prev.owner !== next.registration.owner) throw new KmsError(KmsCode.KMS_SIGNATURE_INVALID, "this model is registered by another owner");
    if (prev.key_id !== next.registration.key_id) throw new KmsError(KmsCode.KMS_BAD_REQUEST, "a registration cannot change the model's data key (seal again under a new model id)");
    if (next.registration.sequence <= prev.sequence) throw new KmsError(KmsCode.KMS_REGISTRATION_STALE, `registration sequence ${next.registration.sequence} is not newer than ${prev.sequence}`);
  }

  async function release(body: unknown): Promise<ReleaseResponse> {
    const req = parse(releaseSchema, body);
    const refuse = (code: KmsCode, message: string, details?: Record<string, unknown>): KmsError => {
      log.append({ event: "refuse", model_id: req.model_id, code, ...(details?.["node"] ? { node: details["node"] } : {}) });
      return new KmsError(code, message, details ? { details } : undefined);
    };
    try {
      nonces.consume(req.nonce, req.model_id);
    } catch (e) {
      if (e instanceof KmsError) throw refuse(e.code as KmsCode, e.message);
      throw e;
    }
    let h: ReturnType<typeof held>;
    try {
      h = held(req.model_id);
    } catch (e) {
      if (e instanceof KmsError) throw refuse(e.code as KmsCode, e.message);
      throw e;
    }
    const { reg } = h;
    if (chain) {
      try {
        await chain.checkRegistration(reg);
      } catch (e) {
        if (e instanceof KmsError) throw refuse(e.code as KmsCode, e.message);
        throw e;
      }
    }
    let v: Awaited<ReturnType<typeof verifyAttestationReport>>;
    try {
      v = await verifyAttestationReport(req.report, {
        nonce: parseNonce(req.nonce),
        policy: reg.policy,
        allowSimulated: reg.policy.allowSimulated ?? false,
        now: now(),
        ...opts.verify,
      });
    } catch (e) {
      throw refuse(KmsCode.KMS_EVIDENCE_INVALID, `the evidence could not be read: ${isCloisterError(e) ? e.code : "unreadable"}`);
    }
    if (!v.verified || v.errors.length > 0) {
      const codes = v.errors.map((e) => e.code);
      const code = refusalFor(codes);
      throw refuse(code, `the node's evidence does not satisfy the owner's policy (${v.errors[0]?.code}: ${v.errors[0]?.message})`, { attestCodes: codes, node: v.signingAddress });
    }
    const node = String(v.signingAddress ?? "").toLowerCase();
    const recipient = v.e2ePublicKey ? fromHex(v.e2ePublicKey) : null;
    if (!node || !recipient || recipient.length !== 32) throw refuse(KmsCode.KMS_EVIDENCE_INVALID, "the evidence binds no signing address and X25519 key");
    if (reg.registration.revoked_nodes.includes(node)) throw refuse(KmsCode.KMS_NODE_REVOKED, `the owner revoked node ${node}`, { node });
    if (chain) {
      try {
        await chain.checkNode(reg, node);
      } catch (e) {
        if (e instanceof KmsError) throw refuse(e.code as KmsCode, e.message, { node });
        throw e;
      }
    }

    const issued = now();
    const lease: Lease = {
      type: LEASE_TYPE,
      model_id: req.model_id,
      key_id: reg.registration.key_id,
      share_index: h.shareIndex,
      node,
      recipient_key_id: e2eKeyId(recipient),
      registration_sequence: reg.registration.sequence,
      registration_sha256: reg.digest,
      nonce: req.nonce,
      issued_at: issued.toISOString(),
      expires_at: new Date(issued.getTime() + reg.registration.lease_seconds * 1000).toISOString(),
      broker: signer.address,
    };
    const leaseText = JSON.stringify(lease);
    const share = await sealShare(recipient, h.share, RELEASE_INFO, leaseText);
    // On a chain, the share leaves only once the release is an event there.
    let chainTx: string | undefined;
    if (chain) {
      try {
        chainTx = await chain.record(reg, lease, leaseText);
      } catch (e) {
        if (e instanceof KmsError) throw refuse(e.code as KmsCode, e.message, { node });
        throw e;
      }
    }
    log.append({ event: "release", ...(chainTx ? { chain_tx: chainTx } : {}), model_id: req.model_id, node, share_index: h.shareIndex, registration_sequence: lease.registration_sequence, lease_expires: lease.expires_at, tee: v.tee, simulated: v.simulated, measurements_sha256: createHash("sha256").update(JSON.stringify(v.measurements)).digest("hex") });
    return { lease: leaseText, lease_signature: signer.sign(LEASE_PREFIX + leaseText), share, registration: reg.doc };
  }

  return {
    signer,
    receipts,
    hpkePublicKey,
    stateKey: opts.stateKey,
    report: (nonce) =>
      buildAttestationReport(opts.tee, {
        nonce,
        signingAlgo: "ecdsa",
        signingPublicKey: signer.publicKey,
        e2ePublicKey: hpkePublicKey,
        info: {
          app_name: "cloister-kms",
          version: BROKER_VERSION,
          app_manifest: {
            app: "cloister-kms",
            version: BROKER_VERSION,
            state_key: opts.stateKey.kind,
            state_key_simulated: opts.stateKey.simulated,
            ...(chain ? { chain: { chain_id: chain.chainId, model_registry: chain.address } } : {}),
          },
          compose_hash: null,
        },
      }),
    async upload(body) {
      const req = parse(uploadSchema, body);
      const reg = openRegistration(req.registration);
      const r = reg.registration;
      if (req.share_index > r.shares) throw new KmsError(KmsCode.KMS_SHARE_INVALID, `share index ${req.share_index} is beyond the registration's ${r.shares} shares`);
      checkSuccessor(reg);
      if (chain) await chain.checkRegistration(reg);
      const share = await openShare(hpkePrivate, req.share, UPLOAD_INFO, uploadAad(r.model_id, r.key_id, brokerKeyId, reg.digest, req.share_index), KmsCode.KMS_SHARE_INVALID);
      // shamir-secret-sharing shares are the secret's length plus one byte (the x coordinate).
      if (share.length !== 33) throw new KmsError(KmsCode.KMS_SHARE_INVALID, "a share of a 32-byte data key is 33 bytes");
      state.models[r.model_id] = { registration: reg.doc, share_index: req.share_index, share: toHex(share) };
      save();
      log.append({ event: "upload", model_id: r.model_id, owner: r.owner, share_index: req.share_index, registration_sequence: r.sequence, split_id: r.split_id });
      return { model_id: r.model_id, share_index: req.share_index, sequence: r.sequence };
    },
    async register(body) {
      const req = parse(registerSchema, body);
      const reg = openRegistration(req.registration);
      const cur = state.models[reg.registration.model_id];
      if (!cur) throw new KmsError(KmsCode.KMS_MODEL_UNKNOWN, `no share of model "${reg.registration.model_id}" at this broker: upload one first`);
      checkSuccessor(reg);
      if (chain) await chain.checkRegistration(reg);
      if (openRegistration(cur.registration).registration.split_id !== reg.registration.split_id) {
        throw new KmsError(KmsCode.KMS_BAD_REQUEST, "this registration names a new split of the key: upload its share (POST /v1/kms/shares) instead");
      }
      state.models[reg.registration.model_id] = { ...cur, registration: reg.doc };
      save();
      log.append({ event: "register", model_id: reg.registration.model_id, registration_sequence: reg.registration.sequence, revoked_nodes: reg.registration.revoked_nodes.length });
      return { model_id: reg.registration.model_id, sequence: reg.registration.sequence };
    },
    registration(modelId) {
      const m = state.models[modelId];
      if (!m) throw new KmsError(KmsCode.KMS_MODEL_UNKNOWN, `no share of model "${modelId}" at this broker`);
      return m.registration;
    },
    challenge(body) {
      const req = parse(challengeSchema, body);
      if (!state.models[req.model_id]) throw new KmsError(KmsCode.KMS_MODEL_UNKNOWN, `no share of model "${req.model_id}" at this broker`);
      const c = nonces.issue(req.model_id);
      return { nonce: c.nonce, expires_at: new Date(c.expiresAt).toISOString() };
    },
    release,
    logText: () => log.text(),
  };
}
