/**
 * The report verifier the client calls, injectable: the attest verifier uses node:crypto
 * for X.509, so a browser build passes its own (e.g. one that calls a WASM verifier) and
 * the default loads the Node one lazily, keeping src/client free of Node imports.
 */
export interface ReportVerifierOptions {
  /** Our 32-byte nonce, hex. */
  readonly nonce: string;
  readonly policy?: unknown;
  readonly allowSimulated: boolean;
  readonly now?: Date;
  /** Unchecked items the caller accepts by name ("tcb", "gpu-rim", "gpu-ocsp"); default none. */
  readonly acceptUnchecked?: readonly string[];
}

/** The part of attest's ReportVerification the client relies on. */
export interface VerifiedReport {
  readonly verified: boolean;
  readonly tee: string;
  readonly simulated: boolean;
  readonly errors: readonly { readonly code: string; readonly message: string }[];
  readonly signingAddress?: string | null;
  readonly signingAlgo?: string | null;
  /** Named measurements (mrtd, rtmr0..3, compose_hash, model_sha256, ...), for pinning and the release-log policy. */
  readonly measurements?: Readonly<Record<string, string>>;
  /** Hex or raw bytes of the attested X25519 key. */
  readonly e2ePublicKey?: string | Uint8Array | null;
}

export type ReportVerifier = (report: unknown, opts: ReportVerifierOptions) => Promise<VerifiedReport>;
