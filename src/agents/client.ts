/**
 * The caller's side of a run: through the verifying fetch (attested with signing_algo
 * ed25519, request and answer E2E-sealed, the answer's signature checked), then the
 * receipt checked against the very key that fetch attested, and the receipt's hashes
 * against what was sent and received. Requirements, when given, must be stated in it.
 */
import type { VerifiedFetch } from "../client/verified-fetch.js";
import { sha256Hex } from "./canonical.js";
import { AgentError, AgentCode } from "./errors.js";
import type { Requirements } from "./guarantees.js";
import { verifyReceipt, type SignedReceipt } from "./receipt.js";

export interface VerifiedRun {
  readonly output: string;
  readonly outcome: string;
  readonly scannerVerdict: string;
  readonly receipt: SignedReceipt;
}

export async function runAgentVerified(o: {
  readonly fetch: VerifiedFetch;
  readonly baseURL: string;
  readonly apiKey?: string;
  readonly agent: string;
  readonly input: string;
  readonly requirements?: Requirements;
  readonly acceptFull?: boolean;
}): Promise<VerifiedRun> {
  const node = await o.fetch.attest();
  if (node.signingAlgo !== "ed25519") throw new AgentError(AgentCode.RECEIPT_INVALID, "attest the node with signing_algo ed25519: receipts are signed with its ed25519 key");
  const body = JSON.stringify({ agent: o.agent, input: o.input, ...(o.requirements ? { requirements: o.requirements } : {}), ...(o.acceptFull ? { accept_full: true } : {}) });
  const res = await o.fetch(`${o.baseURL.replace(/\/$/, "")}/v1/agents/runs`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) },
    body,
  });
  const text = await res.text();
  let json: { output?: unknown; outcome?: unknown; scanner_verdict?: unknown; receipt?: unknown; error?: { code?: string; message?: string } };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new AgentError(AgentCode.RUN_FAILED, `the node's answer is not JSON (HTTP ${res.status})`);
  }
  if (!res.ok) {
    const code = (json.error?.code ?? "").toUpperCase();
    const known = Object.values(AgentCode).find((c) => c === code);
    throw new AgentError(known ?? AgentCode.RUN_FAILED, json.error?.message ?? `HTTP ${res.status}`);
  }
  const receipt = verifyReceipt(json.receipt, node);
  const output = typeof json.output === "string" ? json.output : "";
  if (receipt.receipt.input_sha256 !== sha256Hex(o.input)) throw new AgentError(AgentCode.RECEIPT_INVALID, "the receipt is for another input");
  if (receipt.receipt.output_sha256 !== sha256Hex(output)) throw new AgentError(AgentCode.RECEIPT_INVALID, "the receipt is for another output");
  if (o.requirements && JSON.stringify(receipt.receipt.requirements) !== JSON.stringify(o.requirements)) throw new AgentError(AgentCode.RECEIPT_INVALID, "the receipt does not state the requirements sent");
  return { output, outcome: String(json.outcome), scannerVerdict: String(json.scanner_verdict), receipt };
}
