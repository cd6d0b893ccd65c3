import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { bundleHash, BUNDLE_FORMAT, signBundle, verifySignedBundle } from "./bundle.js";
import { parseManifest } from "./manifest.js";

const key = ed25519.utils.randomSecretKey();
const bundle = { format: BUNDLE_FORMAT, manifest: parseManifest({ name: "a", version: "1.0.0", entry: "i.js" }), code: "console.log(1)" } as const;

describe("signed bundles", () => {
  it("verify and keep their content address", () => {
    const s = signBundle(bundle, key);
    expect(verifySignedBundle(JSON.parse(JSON.stringify(s))).hash).toBe(bundleHash(bundle));
  });
  it("fail when a byte of code or manifest changes, or the key is another", () => {
    const s = signBundle(bundle, key);
    expect(() => verifySignedBundle({ ...s, bundle: { ...s.bundle, code: "console.log(2)" } })).toThrow(/signature/);
    expect(() => verifySignedBundle({ ...s, bundle: { ...s.bundle, manifest: { ...s.bundle.manifest, egress: ["evil.test"] } } })).toThrow(/signature/);
    expect(() => verifySignedBundle({ ...s, developer_key: signBundle(bundle, ed25519.utils.randomSecretKey()).developer_key })).toThrow(/signature/);
    expect(() => verifySignedBundle({ bundle: 1 })).toThrow(/AGENT_BUNDLE_INVALID|bundle/);
  });
});
