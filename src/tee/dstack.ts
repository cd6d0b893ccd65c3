/**
 * Quotes from a dstack guest agent over its unix socket (dstack SDK "GetQuote":
 * POST /GetQuote {"report_data": "<hex, up to 64 bytes>"} -> {quote: hex, event_log:
 * JSON string of {imr, event_type, digest, event, event_payload}[], report_data, vm_config}).
 * The agent passes report_data to TDX unchanged, so our 64 bytes land in the quote as is.
 */
import { existsSync } from "node:fs";
import { request } from "node:http";
import { z } from "zod";
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
          if ((res.statusCode ?? 0) >= 300) return reject(new AttestationError("TEE_UNAVAILABLE", `dstack guest agent answered ${res.statusCode}`));
          try {
            resolve(JSON.parse(text));
          } catch (cause) {
            reject(new AttestationError("EVIDENCE_UNREADABLE", "dstack guest agent sent invalid JSON", { cause }));
          }
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
      const r = getQuoteResponse.safeParse(raw);
      if (!r.success) throw new AttestationError("EVIDENCE_UNREADABLE", "dstack GetQuote response lacks a quote");
      const eventLog = r.data.event_log ? parseDstackEventLog(JSON.parse(r.data.event_log)) : [];
      return { tee: "tdx", simulated: false, quote: fromHex(r.data.quote), certChain: null, eventLog };
    },
    getGpuEvidence: opts.gpuEvidence ?? (async () => null),
  };
}
