/**
 * Test-only: brokers in-process (each a real Broker behind its real hono app, reached
 * through a fetch that routes by host), an owner key, and a signed registration.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSimulatorProvider, SIMULATED_MRTD } from "../attest/simulator/provider.js";
import type { PolicyInput } from "../attest/policy/schema.js";
import { dataKeyId } from "./file/keys.js";
import { createSigner, type Signer } from "../seal/signing.js";
import { toHex } from "../util/bytes.js";
import { createBrokerApp } from "./broker/app.js";
import { openBroker, type Broker, type BrokerOptions } from "./broker/broker.js";
import { fileStateKey } from "./broker/state-key.js";
import { signRegistration, type RegistrationInput } from "./registration.js";
import type { SignedDocument } from "./signed.js";

export const SIM_MRTD = toHex(SIMULATED_MRTD);

export interface LocalBroker {
  readonly url: string;
  readonly dataDir: string;
  broker: Broker;
  reopen(extra?: Partial<BrokerOptions>): void;
}

export function localBrokers(n: number, extra: Partial<BrokerOptions> = {}): { brokers: LocalBroker[]; fetch: typeof fetch } {
  const brokers: LocalBroker[] = [];
  const apps = new Map<string, ReturnType<typeof createBrokerApp>>();
  for (let i = 0; i < n; i++) {
    const dataDir = mkdtempSync(join(tmpdir(), "cloister-kms-"));
    const url = `http://broker-${i}.test`;
    const open = (more: Partial<BrokerOptions> = {}): Broker => openBroker({ dataDir, stateKey: fileStateKey(join(dataDir, "state.key")), tee: createSimulatorProvider({ gpu: false }), ...extra, ...more });
    const lb: LocalBroker = {
      url,
      dataDir,
      broker: open(),
      reopen(more) {
        lb.broker = open(more);
        apps.set(new URL(url).host, createBrokerApp(lb.broker));
      },
    };
    apps.set(new URL(url).host, createBrokerApp(lb.broker));
    brokers.push(lb);
  }
  const f = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req = input instanceof Request ? input : new Request(input, init);
    const app = apps.get(new URL(req.url).host);
    if (!app) throw new TypeError(`fetch failed: no broker at ${req.url}`);
    return app.fetch(req);
  }) as typeof fetch;
  return { brokers, fetch: f };
}

export function ownerKey(): Signer {
  return createSigner("ecdsa");
}

export function registration(owner: Signer, dataKey: Uint8Array, over: Partial<RegistrationInput> & { policy?: PolicyInput } = {}): SignedDocument {
  return signRegistration(owner, {
    model_id: "stories260K",
    sequence: 1,
    issued_at: new Date().toISOString(),
    sealed_sha256: toHex(randomBytes(32)),
    plaintext_sha256: toHex(randomBytes(32)),
    plaintext_size: 1000,
    key_id: dataKeyId(dataKey),
    split_id: toHex(randomBytes(16)),
    threshold: 2,
    shares: 3,
    price: { token: "USDC", per_million_tokens: "1000000" },
    royalty: { recipient: owner.address, per_million_tokens: "200000" },
    policy: { allowSimulated: true, measurements: { mrtd: [SIM_MRTD] } },
    lease_seconds: 600,
    revoked_nodes: [],
    ...over,
  });
}
