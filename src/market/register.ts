/**
 * The node registers itself through the registry's admission path: it asks the verifier
 * quorum's members to attest it (./verifier-service.ts; the first one proposes the verdict,
 * the others attest the node themselves and co-sign it), signs the Registration statement
 * with its attested key (so nothing in it can be swapped by the operator or a relay), and
 * the operator account sends it. Refreshed with fresh evidence before it expires.
 */
import type { LocalAccount } from "viem";
import type { Chain, TxResult } from "../ledger/chain.js";
import { encodeQuorumEvidence, signRegistration } from "../ledger/sign.js";
import type { EvmAddress, Hex32, Price, Registration, Verdict } from "../ledger/typed-data.js";
import type { Logger } from "../log/logger.js";
import { isCloisterError } from "../errors.js";
import { MarketCode, MarketError } from "./errors.js";
import { verdictFromJson, verdictToJson } from "./verifier-service.js";

export interface RegisterOptions {
  /** Sends as the operator (its account is the operator). */
  readonly chain: Chain;
  readonly enclave: LocalAccount;
  /** The node's public base URL (clients call `${endpoint}/v1`); the verifiers attest it there. */
  readonly endpoint: string;
  readonly region: string;
  readonly latE6: number;
  readonly lonE6: number;
  readonly prices: readonly Price[];
  readonly payout?: EvmAddress;
  readonly verifierUrls: readonly string[];
  /** Signatures needed (the quorum's threshold). */
  readonly threshold: number;
  readonly fetch?: typeof fetch;
}

export interface Registered {
  readonly tx: TxResult;
  readonly verdict: Verdict;
  readonly expiresAt: bigint;
}

async function askVerifier(f: typeof fetch, url: string, endpoint: string, proposed?: Verdict): Promise<{ verdict: Verdict; signature: Hex32; signer: string }> {
  let res: Response;
  try {
    res = await f(`${url.replace(/\/+$/, "")}/v1/verdicts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ endpoint, ...(proposed ? { verdict: verdictToJson(proposed) } : {}) }) });
  } catch (cause) {
    throw new MarketError(MarketCode.VERIFIER_UNREACHABLE, `verifier ${url} is unreachable`, { cause });
  }
  const body = (await res.json().catch(() => null)) as { verdict?: unknown; signature?: string; signer?: string; error?: { message?: string } } | null;
  if (!res.ok || !body?.verdict || !body.signature || !body.signer) {
    throw new MarketError(MarketCode.VERDICT_REFUSED, `verifier ${url} refused: ${body?.error?.message ?? `HTTP ${res.status}`}`);
  }
  return { verdict: verdictFromJson(body.verdict), signature: body.signature as Hex32, signer: body.signer.toLowerCase() };
}

export async function registerNode(o: RegisterOptions): Promise<Registered> {
  const f = o.fetch ?? globalThis.fetch.bind(globalThis);
  const operator = o.chain.account;
  if (!operator) throw new MarketError(MarketCode.REGISTRATION_FAILED, "registering needs the operator's chain key (--chain-key-file or CLOISTER_CHAIN_KEY)");
  const sigs: { signature: Hex32; signer: string }[] = [];
  let verdict: Verdict | null = null;
  const errors: string[] = [];
  for (const url of o.verifierUrls) {
    if (sigs.length >= o.threshold) break;
    try {
      const a = await askVerifier(f, url, o.endpoint, verdict ?? undefined);
      if (verdict === null) verdict = a.verdict;
      sigs.push(a);
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (!verdict || sigs.length < o.threshold) throw new MarketError(MarketCode.REGISTRATION_FAILED, `${sigs.length} of ${o.threshold} verifier signatures: ${errors.join("; ") || "no verifiers configured"}`);
  if (verdict.enclave.toLowerCase() !== o.enclave.address.toLowerCase()) {
    // The verifiers attested another key at our endpoint: someone else answers there.
    throw new MarketError(MarketCode.REGISTRATION_FAILED, "the verifiers attested another signing key at this endpoint");
  }
  sigs.sort((a, b) => (BigInt(a.signer) < BigInt(b.signer) ? -1 : 1));
  const evidence = encodeQuorumEvidence(verdict, sigs.map((s) => s.signature));
  const now = await o.chain.chainTime();
  const reg: Registration = {
    enclave: o.enclave.address.toLowerCase() as EvmAddress,
    operator,
    payout: o.payout ?? operator,
    endpoint: o.endpoint,
    region: o.region,
    latE6: o.latE6,
    lonE6: o.lonE6,
    attestationDigest: verdict.attestationDigest,
    measurementsDigest: verdict.measurementsDigest,
    gpuEvidenceDigest: verdict.gpuEvidenceDigest,
    prices: o.prices,
    nonce: await o.chain.statementNonce(o.enclave.address.toLowerCase() as EvmAddress),
    deadline: now + 600n,
  };
  const sig = await signRegistration(o.enclave, { chainId: o.chain.chainId, address: o.chain.addresses.registry }, reg);
  const tx = await o.chain.register(reg, sig, o.chain.addresses.quorum, evidence);
  const node = await o.chain.getNode(reg.enclave);
  return { tx, verdict, expiresAt: node?.expiresAt ?? 0n };
}

/**
 * Registers now, then again before each expiry (at 80% of the remaining life, at least 30 s
 * ahead); a failed refresh retries every `retryMs`. Stops when `signal` aborts.
 */
export function keepRegistered(o: RegisterOptions & { readonly signal: AbortSignal; readonly logger: Logger; readonly retryMs?: number; readonly onRegistered?: (r: Registered) => void }, first: Registered): void {
  let timer: NodeJS.Timeout | null = null;
  const schedule = async (expiresAt: bigint): Promise<void> => {
    const now = await o.chain.chainTime().catch(() => BigInt(Math.floor(Date.now() / 1000)));
    const left = expiresAt > now ? expiresAt - now : 0n;
    const inS = left > 150n ? (left * 8n) / 10n : left > 30n ? left - 30n : 0n;
    arm(Number(inS) * 1000);
  };
  const arm = (ms: number): void => {
    if (o.signal.aborted) return;
    timer = setTimeout(() => void refresh(), Math.min(ms, 2 ** 31 - 1));
    timer.unref();
  };
  const refresh = async (): Promise<void> => {
    try {
      const r = await registerNode(o);
      o.logger.info("registration refreshed", { expires_at: r.expiresAt.toString() });
      o.onRegistered?.(r);
      await schedule(r.expiresAt);
    } catch (err) {
      o.logger.warn("registration refresh failed; retrying", { code: isCloisterError(err) ? err.code : "UNKNOWN" });
      arm(o.retryMs ?? 30_000);
    }
  };
  o.signal.addEventListener("abort", () => timer && clearTimeout(timer), { once: true });
  void schedule(first.expiresAt);
}
