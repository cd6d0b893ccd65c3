/**
 * The node's vendor collateral (issue 7, items 4 and 14): what a client needs to check TCB
 * status, GPU reference measurements and GPU certificate revocation, fetched by the node
 * from Intel (PCS or a PCCS), AMD (KDS) and NVIDIA (RIM service, OCSP), cached, and served
 * beside every report (docs/protocol.md, "Collateral"). All of it is signed by the vendors,
 * so serving it costs no trust; a fetch that fails leaves its part null, which the client's
 * verifier reports as unchecked (and refuses unless the caller accepted that by name).
 */
import { X509Certificate } from "node:crypto";
import type { TeeProvider, QuoteResult } from "../attest/provider.js";
import type { ReportCollateral } from "../attest/report/format.js";
import { fetchCollateral as fetchIntelCollateral, INTEL_PCS_URL } from "../attest/intel/fetch-collateral.js";
import { parseCrl } from "../attest/intel/crl.js";
import { parseOcspResponse } from "../attest/nvidia/ocsp.js";
import { parseSpdmEvidence } from "../attest/nvidia/spdm.js";
import { splitPemChain } from "../attest/nvidia/x509.js";
import { toHex } from "../util/bytes.js";
import { ocspRequest } from "./ocsp-request.js";

export const AMD_KDS_URL = "https://kdsintf.amd.com";
export const NVIDIA_RIM_URL = "https://rim.attestation.nvidia.com";
export const NVIDIA_OCSP_URL = "https://ocsp.ndis.nvidia.com";

export interface CollateralSourceOptions {
  readonly pccsUrl?: string;
  readonly kdsUrl?: string;
  readonly rimUrl?: string;
  readonly ocspUrl?: string;
  /** Where Intel collateral is cached on disk (until its nextUpdate). */
  readonly cacheDir?: string;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
  /** Told when a part could not be fetched (the report then goes without it). */
  readonly onError?: (part: string, error: unknown) => void;
}

interface Cached<T> {
  readonly value: T;
  readonly until: number;
}

/** Wraps a hardware provider so its reports carry vendor collateral. */
export function withCollateral(provider: TeeProvider, opts: CollateralSourceOptions = {}): TeeProvider {
  const f = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const now = opts.now ?? (() => new Date());
  const cache = new Map<string, Cached<unknown>>();
  const cached = async <T>(key: string, load: () => Promise<{ value: T; until: number }>): Promise<T> => {
    const hit = cache.get(key);
    if (hit && hit.until > now().getTime()) return hit.value as T;
    const fresh = await load();
    if (cache.size > 256) cache.clear();
    cache.set(key, fresh);
    return fresh.value;
  };
  const attempt = async <T>(part: string, fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (e) {
      opts.onError?.(part, e);
      return null;
    }
  };
  const bytes = async (url: string, init?: RequestInit): Promise<Uint8Array> => {
    const res = await f(url, init);
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };

  const intel = (q: QuoteResult): Promise<Readonly<Record<string, string>> | null> =>
    attempt("intel", async () => ({ ...(await fetchIntelCollateral(q.quote, { pccsUrl: opts.pccsUrl ?? INTEL_PCS_URL, ...(opts.cacheDir ? { cacheDir: opts.cacheDir } : {}), fetch: f, now: now() })) }));

  const amd = (q: QuoteResult): Promise<string | null> =>
    attempt("amd", async () => {
      // The VCEK's issuer names the product: "SEV-Milan", "SEV-Genoa", "SEV-Turin".
      const leaf = splitPemChain(q.certChain ?? "")[0];
      const product = /SEV-(Milan|Genoa|Turin)/.exec(leaf?.issuer ?? "")?.[1];
      if (!product) throw new Error("cannot tell the SEV-SNP product from the VCEK issuer");
      return cached(`amd:${product}`, async () => {
        const der = await bytes(`${opts.kdsUrl ?? AMD_KDS_URL}/vcek/v1/${product}/crl`);
        const next = parseCrl(der, "AMD KDS CRL").nextUpdate;
        return { value: toHex(der), until: Math.min(next?.getTime() ?? 0, now().getTime() + 86_400_000) };
      });
    });

  const gpu = async (payload: string): Promise<{ rims: ReportCollateral["nvidia_rims"]; ocsp: ReportCollateral["nvidia_ocsp"] }> => {
    const list = (JSON.parse(payload) as { evidence_list: { certificate: string; evidence: string }[] }).evidence_list;
    const rims = await attempt("nvidia-rim", () =>
      Promise.all(
        list.map(async (item) => {
          const op = parseSpdmEvidence(new Uint8Array(Buffer.from(item.evidence, "base64"))).response.opaque;
          if (!op.driverVersion || !op.vbiosVersion || !op.project || !op.projectSku || !op.chipSku) throw new Error("GPU evidence lacks driver/VBIOS identifiers");
          // nvtrust's RIM ids (Hopper): NV_GPU_DRIVER_GH100_<driver>, NV_GPU_VBIOS_<project>_<sku>_<chip sku>_<vbios without dots>.
          const ids = [`NV_GPU_DRIVER_GH100_${op.driverVersion}`, `NV_GPU_VBIOS_${op.project}_${op.projectSku}_${op.chipSku}_${op.vbiosVersion.replace(/\./g, "").toUpperCase()}`];
          const [driver, vbios] = await Promise.all(ids.map((id) => cached(`rim:${id}`, async () => ({ value: await rim(id), until: Number.MAX_SAFE_INTEGER }))));
          return { driver: driver as string, vbios: vbios as string };
        }),
      ),
    );
    const ocsp = await attempt("nvidia-ocsp", async () => {
      const out = new Set<string>();
      for (const item of list) {
        const pem = item.certificate.includes("BEGIN CERTIFICATE") ? item.certificate : Buffer.from(item.certificate, "base64").toString("utf8");
        const chain = splitPemChain(pem);
        for (let i = 0; i + 1 < chain.length; i++) out.add(await ocspFor(chain[i] as X509Certificate, chain[i + 1] as X509Certificate));
      }
      return [...out];
    });
    return { rims, ocsp };
  };

  const rim = async (id: string): Promise<string> => {
    const res = await f(`${opts.rimUrl ?? NVIDIA_RIM_URL}/v1/rim/${encodeURIComponent(id)}`);
    if (!res.ok) throw new Error(`RIM ${id}: HTTP ${res.status}`);
    const body = (await res.json()) as { rim?: unknown };
    if (typeof body.rim !== "string") throw new Error(`RIM ${id}: no rim in the answer`);
    return Buffer.from(body.rim, "base64").toString("utf8");
  };

  const ocspFor = (cert: X509Certificate, issuer: X509Certificate): Promise<string> =>
    cached(`ocsp:${cert.fingerprint256}`, async () => {
      const der = await bytes(opts.ocspUrl ?? NVIDIA_OCSP_URL, { method: "POST", headers: { "content-type": "application/ocsp-request" }, body: Buffer.from(ocspRequest(cert, issuer)) });
      const next = parseOcspResponse(der).responses[0]?.nextUpdate?.getTime() ?? 0;
      return { value: toHex(der), until: Math.min(next, now().getTime() + 3_600_000) };
    });

  return {
    name: provider.name,
    simulated: provider.simulated,
    getQuote: (rd) => provider.getQuote(rd),
    getGpuEvidence: (n) => provider.getGpuEvidence(n),
    ...(provider.extendAppEvent ? { extendAppEvent: (e: string, p: Uint8Array) => (provider.extendAppEvent as NonNullable<TeeProvider["extendAppEvent"]>)(e, p) } : {}),
    async getCollateral(q, payload) {
      const g = payload ? await gpu(payload) : { rims: null, ocsp: null };
      return {
        intel: q.tee === "tdx" ? await intel(q) : null,
        amd_crl: q.tee === "sev-snp" ? await amd(q) : null,
        nvidia_rims: g.rims,
        nvidia_ocsp: g.ocsp,
        simulated: false,
      };
    },
  };
}
