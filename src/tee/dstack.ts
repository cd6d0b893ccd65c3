/**
 * Quotes from a dstack guest agent over its unix socket (dstack SDK "GetQuote":
 * POST /GetQuote {"report_data": "<hex, up to 64 bytes>"} -> {quote: hex, event_log:
 * JSON string of {imr, event_type, digest, event, event_payload}[], report_data, vm_config}).
 * The agent passes report_data to TDX unchanged, so our 64 bytes land in the quote as is.
 *
 * App events (dstack SDK `emitEvent`, guest agent v0 surface, dstack OS 0.5.x):
 * POST /EmitEvent {"event": name, "payload": "<hex>"} extends RTMR3 with the event and
 * appends it to the runtime event log (the agent hashes it as a dstack runtime event, type
 * 0x08000001). A prpc handler reports failure as {"error": "..."} in the body; dstack 0.6.0
 * removed EmitEvent (runtime RTMR3 events became system-owned) and answers every call so.
 */
import { existsSync } from "node:fs";
import { request } from "node:http";
import { z } from "zod";
import { AttestCode } from "../attest/codes.js";
import { parseDstackEventLog } from "../attest/eventlog/dstack.js";
import type { QuoteResult, TeeProvider } from "../attest/provider.js";
import { AttestationError } from "../errors.js";
import { fromHex, toHex } from "../util/bytes.js";

export const DSTACK_SOCKET_PATH = "/var/run/dstack.sock";

export interface DstackOptions {
  readonly socketPath?: string;
  readonly timeoutMs?: number;
  readonly gpuEvidence?: (nonce: Uint8Array) => Promise<string | null>;
}

const getQuoteResponse = z.object({ quote: z.string().min(2), event_log: z.string().nullish(), report_data: z.string().nullish() }).passthrough();

export function dstackAvailable(socketPath = DSTACK_SOCKET_PATH): boolean {
  return existsSync(socketPath);
}

const rpcError = (v: unknown): string | null =>
  v !== null && typeof v === "object" && "error" in v ? String((v as { error: unknown }).error) : null;

/** POST JSON to the guest agent; exported for the other agent RPCs (src/tee/dstack-gpu.ts). */
export const dstackRpc = (socketPath: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> => postJson(socketPath, path, body, timeoutMs);

/** The prpc error text of a reply, or null. */
export const dstackRpcError = (v: unknown): string | null => rpcError(v);

function postJson(socketPath: string, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, path, method: "POST", headers: { host: "dstack", "content-type": "application/json", "content-length": Buffer.byteLength(data) }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown = {};
          let parsed = true;
          try {
            // An Empty reply may come back with no body at all.
            if (text.trim()) json = JSON.parse(text);
          } catch {
            parsed = false;
          }
          if ((res.statusCode ?? 0) >= 300) {
            const why = parsed ? rpcError(json) : null;
            return reject(new AttestationError("TEE_UNAVAILABLE", `dstack guest agent answered ${res.statusCode} to ${path}${why ? `: ${why}` : ""}`, { details: { status: res.statusCode, agentError: why } }));
          }
          if (!parsed) return reject(new AttestationError("EVIDENCE_UNREADABLE", "dstack guest agent sent invalid JSON"));
          resolve(json);
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new AttestationError("TEE_UNAVAILABLE", "dstack guest agent timed out")));
    req.on("error", (cause) => reject(cause instanceof AttestationError ? cause : new AttestationError("TEE_UNAVAILABLE", `cannot reach the dstack guest agent at ${socketPath}`, { cause })));
    req.end(data);
  });
}

export function createDstackProvider(opts: DstackOptions = {}): TeeProvider {
  const socketPath = opts.socketPath ?? DSTACK_SOCKET_PATH;
  return {
    name: "dstack",
    simulated: false,
    async getQuote(reportData: Uint8Array): Promise<QuoteResult> {
      if (reportData.length !== 64) throw new AttestationError("QUOTE_REQUEST_INVALID", "report_data must be exactly 64 bytes");
      const raw = await postJson(socketPath, "/GetQuote", { report_data: toHex(reportData) }, opts.timeoutMs ?? 30_000);
      const refused = rpcError(raw);
      if (refused !== null) throw new AttestationError("TEE_UNAVAILABLE", `dstack guest agent refused GetQuote: ${refused}`);
      const r = getQuoteResponse.safeParse(raw);
      if (!r.success) throw new AttestationError("EVIDENCE_UNREADABLE", "dstack GetQuote response lacks a quote");
      const eventLog = r.data.event_log ? parseDstackEventLog(JSON.parse(r.data.event_log)) : [];
      return { tee: "tdx", simulated: false, quote: fromHex(r.data.quote), certChain: null, eventLog };
    },
    getGpuEvidence: opts.gpuEvidence ?? (async () => null),
    async extendAppEvent(event: string, payload: Uint8Array): Promise<void> {
      if (!event) throw new AttestationError("QUOTE_REQUEST_INVALID", "an app event needs a name");
      let reply: unknown;
      try {
        reply = await postJson(socketPath, "/EmitEvent", { event, payload: toHex(payload) }, opts.timeoutMs ?? 30_000);
      } catch (cause) {
        // A refusal by status (not a dead socket) is the agent declining the event.
        const agentError = cause instanceof AttestationError ? cause.details?.["agentError"] : undefined;
        if (cause instanceof AttestationError && cause.details?.["status"] === 404) {
          throw new AttestationError(AttestCode.APP_EVENT_REJECTED, `this dstack guest agent has no EmitEvent (404); RTMR3 app events need dstack OS 0.5.x`, { cause });
        }
        if (typeof agentError === "string") throw new AttestationError(AttestCode.APP_EVENT_REJECTED, `dstack guest agent refused EmitEvent "${event}": ${agentError}`, { cause });
        throw cause;
      }
      const why = rpcError(reply);
      if (why !== null) throw new AttestationError(AttestCode.APP_EVENT_REJECTED, `dstack guest agent refused EmitEvent "${event}": ${why}`);
    },
  };
}
