/**
 * Trust on first use of a node's measurements (issue 7, item 5). A genuine TEE proves
 * only that SOME code runs in it: without a policy that pins measurements, any operator
 * can run any code on genuine hardware and still attest. Until the release log exists, a
 * caller can at least pin what it saw the first time and refuse, loudly, when it changes
 * (MEASUREMENTS_CHANGED). The first attestation is taken on trust: an attacker who
 * controls the node on first contact is pinned. Browser-safe: the store is injected
 * (src/cli/pin-file.ts keeps it in a file, for Node).
 */
import { ClientError } from "../errors.js";
import { ClientCode } from "./codes.js";

/** What is pinned: the platform's code and the app (and model) it runs, not per-boot values. */
export const PINNED_MEASUREMENTS = ["mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mrseam", "measurement", "compose_hash", "model_sha256"] as const;

export interface PinRecord {
  readonly pinnedAt: string;
  readonly measurements: Readonly<Record<string, string>>;
}

export interface PinStore {
  load(node: string): Promise<PinRecord | null>;
  save(node: string, record: PinRecord): Promise<void>;
}

export function createMemoryPinStore(): PinStore {
  const m = new Map<string, PinRecord>();
  return { load: async (n) => m.get(n) ?? null, save: async (n, r) => void m.set(n, r) };
}

export const UNPINNED_WARNING =
  "WARNING: no measurement is pinned for this node: it proved it runs in a genuine TEE, not WHICH code runs there. Any operator could run any code and still pass. Pin measurements with a policy, or enable trust-on-first-use pinning (cloister chat --tofu).";

/** The same warning for a node on the simulator: its evidence proves no TEE at all, so it must not say "genuine". */
export const UNPINNED_SIMULATED_WARNING =
  "WARNING: no measurement is pinned for this node, and it is SIMULATED: its evidence proves neither a TEE nor which code runs (development only). Pin measurements with a policy, or enable trust-on-first-use pinning (cloister chat --tofu).";

/** Picks the pinnable measurements out of a verification. */
export function pinnable(measurements: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of PINNED_MEASUREMENTS) {
    const v = measurements?.[k];
    if (typeof v === "string") out[k] = v.toLowerCase();
  }
  return out;
}

/** True when a (raw JSON) policy pins at least one measurement or a signed release. */
export function policyPins(policy: unknown): boolean {
  if (!policy || typeof policy !== "object") return false;
  const p = policy as Record<string, unknown>;
  const m = p["measurements"];
  return (m !== null && typeof m === "object" && Object.keys(m).length > 0) || p["sigstore"] !== undefined;
}

/**
 * First use: stores the measurements and warns that they were taken on trust. Later: every
 * pinned value must be there and equal, else MEASUREMENTS_CHANGED (nothing is sent).
 */
export async function checkPins(store: PinStore, node: string, measured: Readonly<Record<string, string>>, warn: (m: string) => void, now: Date): Promise<void> {
  const seen = pinnable(measured);
  const pin = await store.load(node);
  if (!pin) {
    if (Object.keys(seen).length === 0) throw new ClientError(ClientCode.MEASUREMENTS_CHANGED, "the node's report has no measurement that could be pinned");
    await store.save(node, { pinnedAt: now.toISOString(), measurements: seen });
    warn(`NOTICE: pinned this node's measurements on first use (${Object.keys(seen).join(", ")}). This first attestation was taken on trust; from now on any change is refused.`);
    return;
  }
  const changed = Object.keys(pin.measurements).filter((k) => seen[k] !== pin.measurements[k]);
  if (changed.length > 0) {
    throw new ClientError(
      ClientCode.MEASUREMENTS_CHANGED,
      `the node's measurements changed since they were pinned on ${pin.pinnedAt} (${changed.join(", ")}): it runs other code than before. Refusing; if the change is a release you trust, remove the pin and attest again.`,
      { details: { changed, pinnedAt: pin.pinnedAt } },
    );
  }
}
