/**
 * A complete simulated Cloister report with fresh keys: what a node in `simulated` mode
 * serves, and what tests, the bench and the CLI's URL-mode test server use.
 */
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex, utf8 } from "../../util/bytes.js";
import { buildAttestationReport } from "../report/build.js";
import type { AttestationReport, SigningAlgo } from "../report/format.js";
import { createSimulatorProvider, type SimulatorOptions, type SimulatorProvider } from "./provider.js";

export interface SimulatedNode {
  readonly provider: SimulatorProvider;
  readonly signingAlgo: SigningAlgo;
  readonly signingSecretKey: Uint8Array;
  readonly signingPublicKey: Uint8Array;
  readonly e2eSecretKey: Uint8Array;
  readonly e2ePublicKey: Uint8Array;
  report(nonce: Uint8Array): Promise<AttestationReport>;
}

export const SIMULATED_COMPOSE = "services:\n  cloister:\n    image: cloister/node:simulated\n";

export interface SimulatedNodeOptions extends SimulatorOptions {
  readonly signingAlgo?: SigningAlgo;
  readonly tlsSpki?: Uint8Array;
  /** An app manifest measured into RTMR3 (cloister-app-manifest) and served in info, as `cloister up` does. */
  readonly appManifest?: Readonly<Record<string, unknown>>;
}

export function createSimulatedNode(opts: SimulatedNodeOptions = {}): SimulatedNode {
  const signingAlgo = opts.signingAlgo ?? "ecdsa";
  const signingSecretKey = signingAlgo === "ecdsa" ? secp256k1.utils.randomSecretKey() : ed25519.utils.randomSecretKey();
  const signingPublicKey = signingAlgo === "ecdsa" ? secp256k1.getPublicKey(signingSecretKey, true) : ed25519.getPublicKey(signingSecretKey);
  const e2eSecretKey = x25519.utils.randomSecretKey();
  const e2ePublicKey = x25519.getPublicKey(e2eSecretKey);
  const composeHash = sha256(utf8.encode(SIMULATED_COMPOSE));
  const provider = createSimulatorProvider({
    ...opts,
    appEvents: opts.appEvents ?? [
      { event: "app-id", payload: composeHash.subarray(0, 20) },
      { event: "compose-hash", payload: composeHash },
      { event: "image-digest", payload: utf8.encode(`sha256:${"0".repeat(64)}`) },
      ...(opts.appManifest ? [{ event: "cloister-app-manifest", payload: sha256(utf8.encode(JSON.stringify(opts.appManifest))) }] : []),
    ],
  });
  const appManifest = opts.appManifest ?? { compose: SIMULATED_COMPOSE, images: [`cloister/node:simulated@sha256:${"0".repeat(64)}`] };
  return {
    provider,
    signingAlgo,
    signingSecretKey,
    signingPublicKey,
    e2eSecretKey,
    e2ePublicKey,
    report: (nonce) =>
      buildAttestationReport(provider, {
        nonce,
        signingAlgo,
        signingPublicKey,
        e2ePublicKey,
        tlsSpki: opts.tlsSpki ?? null,
        info: {
          app_name: "cloister-simulated",
          version: "0.1.0",
          app_manifest: appManifest,
          compose_hash: toHex(composeHash),
          tcb_info: { app_compose: SIMULATED_COMPOSE },
        },
      }),
  };
}
