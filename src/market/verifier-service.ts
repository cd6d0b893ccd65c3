/**
 * A quorum member as an HTTP service: `POST /v1/verdicts {"endpoint": URL}` attests the
 * node at URL itself (./verdict.ts) and answers `{verdict, signature, signer}`; with
 * `"verdict": {...}` it co-signs another member's verdict only if its own attestation of the
 * node agrees on the enclave, measurements, TCB status and simulation flag (every member
 * looks at the node itself: k signatures mean k independent checks). On the embedded local
 * chain the only member is the `cloister chain start` process (docs/decisions.md).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { LocalAccount } from "viem";
import { z } from "zod";
import type { Deployment } from "../ledger/sign.js";
import type { Verdict } from "../ledger/typed-data.js";
import { checkNodeForVerdict, signVerdict, type VerdictOptions } from "./verdict.js";
import { isCloisterError } from "../errors.js";

export interface VerifierServiceOptions {
  readonly member: LocalAccount;
  readonly quorum: Deployment;
  readonly allowSimulated: boolean;
  readonly chainTime: () => Promise<bigint>;
  readonly validitySeconds?: bigint;
  readonly host?: string;
  readonly port?: number;
  /** Told of every verdict this member signed (the local chain admits its measurements: local-chain.ts). */
  readonly onSigned?: (v: Verdict) => Promise<void>;
  readonly fetch?: typeof fetch;
}

export interface VerifierService {
  readonly url: string;
  close(): Promise<void>;
}

const u = z.string().regex(/^[0-9]{1,20}$/).transform(BigInt);
const h = z.string().regex(/^0x[0-9a-fA-F]{64}$/).transform((s) => s.toLowerCase() as `0x${string}`);
const verdictSchema = z
  .object({
    enclave: z.string().regex(/^0x[0-9a-fA-F]{40}$/).transform((s) => s.toLowerCase() as `0x${string}`),
    attestationDigest: h,
    measurementsDigest: h,
    gpuEvidenceDigest: h,
    tcbStatus: z.number().int().min(0).max(255),
    notAfter: u,
    simulated: z.boolean(),
    issuedAt: u,
  })
  .strict();
const requestSchema = z.object({ endpoint: z.string().url().max(512), verdict: verdictSchema.optional() }).strict();

export function verdictToJson(v: Verdict): Record<string, unknown> {
  return { ...v, notAfter: v.notAfter.toString(), issuedAt: v.issuedAt.toString() };
}

export function verdictFromJson(json: unknown): Verdict {
  return verdictSchema.parse(json);
}

async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new Error("body too large");
    parts.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(parts).toString("utf8"));
}

export async function startVerifierService(o: VerifierServiceOptions): Promise<VerifierService> {
  const opts = (endpoint: string): VerdictOptions => ({
    endpoint,
    allowSimulated: o.allowSimulated,
    chainTime: o.chainTime,
    ...(o.validitySeconds !== undefined ? { validitySeconds: o.validitySeconds } : {}),
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
  const server: Server = createServer((req, res) => {
    const answer = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "POST" || req.url !== "/v1/verdicts") return answer(404, { error: { code: "not_found", message: "POST /v1/verdicts" } });
    void (async () => {
      let body: z.infer<typeof requestSchema>;
      try {
        body = requestSchema.parse(await readJson(req, 8192));
      } catch {
        return answer(400, { error: { code: "invalid_params", message: "body must be {endpoint, verdict?}" } });
      }
      try {
        const own = await checkNodeForVerdict(opts(body.endpoint));
        let verdict = own.verdict;
        if (body.verdict) {
          const p = body.verdict;
          const now = await o.chainTime();
          const agrees =
            p.enclave === own.verdict.enclave &&
            p.measurementsDigest === own.verdict.measurementsDigest &&
            p.tcbStatus === own.verdict.tcbStatus &&
            p.simulated === own.verdict.simulated &&
            p.notAfter <= own.verdict.notAfter &&
            p.issuedAt <= now &&
            now - p.issuedAt <= 600n;
          if (!agrees) return answer(409, { error: { code: "verdict_disagrees", message: "this member's own attestation of the node differs from the proposed verdict" } });
          verdict = p;
        }
        const signature = await signVerdict(o.member, o.quorum, verdict);
        await o.onSigned?.(verdict);
        return answer(200, { verdict: verdictToJson(verdict), signature, signer: o.member.address.toLowerCase() });
      } catch (err) {
        return answer(422, { error: { code: isCloisterError(err) ? err.code.toLowerCase() : "verdict_refused", message: err instanceof Error ? err.message : "refused" } });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? "127.0.0.1", () => resolve()));
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${o.host ?? "127.0.0.1"}:${addr.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
