/**
 * An agent bundle: the manifest plus the code esbuild produced from its entry (one ESM
 * file, `agent.mjs`, every npm dependency inlined), content-addressed by the SHA-256 of
 * its canonical JSON and signed by the developer's Ed25519 key (RFC 8032, @noble/curves)
 * over `cloister/agent-bundle/v1:<bundle sha256>`. The hub stores exactly these bytes.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { z } from "zod";
import { canonicalJson, sha256Hex } from "./canonical.js";
import { AgentError, AgentCode } from "./errors.js";
import { manifestSchema, type AgentManifest } from "./manifest.js";
import type { Sha256 } from "../types.js";
import { fromHex, toHex, utf8 } from "../util/bytes.js";

export const BUNDLE_FORMAT = "cloister-agent-bundle/v1";
export const BUNDLE_MAIN = "agent.mjs";
export const MAX_BUNDLE_BYTES = 8 * 1024 * 1024;

export interface AgentBundle {
  readonly format: typeof BUNDLE_FORMAT;
  readonly manifest: AgentManifest;
  /** The built code, UTF-8. */
  readonly code: string;
}

export interface SignedBundle {
  readonly bundle: AgentBundle;
  /** 32-byte Ed25519 public key, hex. */
  readonly developer_key: string;
  /** 64-byte Ed25519 signature over bundleSigningText(hash), hex. */
  readonly signature: string;
}

const signedBundleSchema = z
  .object({
    bundle: z.object({ format: z.literal(BUNDLE_FORMAT), manifest: manifestSchema, code: z.string().max(MAX_BUNDLE_BYTES) }).strict(),
    developer_key: z.string().regex(/^[0-9a-f]{64}$/),
    signature: z.string().regex(/^[0-9a-f]{128}$/),
  })
  .strict();

export function bundleHash(b: AgentBundle): Sha256 {
  return sha256Hex(canonicalJson(b));
}

export function bundleSigningText(hash: Sha256): string {
  return `cloister/agent-bundle/v1:${hash}`;
}

export function signBundle(bundle: AgentBundle, developerSecretKey: Uint8Array): SignedBundle {
  const sig = ed25519.sign(utf8.encode(bundleSigningText(bundleHash(bundle))), developerSecretKey);
  return { bundle, developer_key: toHex(ed25519.getPublicKey(developerSecretKey)), signature: toHex(sig) };
}

/** Parses a published bundle and checks its signature; returns it with its hash. */
export function verifySignedBundle(value: unknown): { signed: SignedBundle; hash: Sha256 } {
  const r = signedBundleSchema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new AgentError(AgentCode.BUNDLE_INVALID, `agent bundle: ${i?.path.join(".") || "bundle"}: ${i?.message ?? "invalid"}`);
  }
  const signed = r.data as SignedBundle;
  const hash = bundleHash(signed.bundle);
  let ok = false;
  try {
    ok = ed25519.verify(fromHex(signed.signature), utf8.encode(bundleSigningText(hash)), fromHex(signed.developer_key));
  } catch {
    ok = false;
  }
  if (!ok) throw new AgentError(AgentCode.BUNDLE_SIGNATURE_INVALID, "the bundle's signature does not verify under its developer key");
  return { signed, hash };
}
