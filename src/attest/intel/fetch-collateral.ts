/**
 * Collateral from Intel's PCS (or a PCCS), Intel "SGX and TDX PCS API" v4:
 *   GET {base}/{sgx|tdx}/certification/v4/tcb?fmspc=..      header TCB-Info-Issuer-Chain
 *   GET {base}/{sgx|tdx}/certification/v4/qe/identity        header SGX-Enclave-Identity-Issuer-Chain
 *   GET {base}/sgx/certification/v4/pckcrl?ca=..&encoding=der header SGX-PCK-CRL-Issuer-Chain
 *   root CA CRL: Intel's CDP (IntelSGXRootCA.der), or a PCCS's /sgx/certification/v4/rootcacrl
 * Issuer chains come URL-encoded in headers. Results are cached on disk per TEE + FMSPC +
 * CA until the earliest nextUpdate. I/O is passed in (fetch, cacheDir) so tests run offline.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AttestationError } from "../../errors.js";
import { toHex } from "../../util/bytes.js";
import { AttestCode } from "../codes.js";
import { parsePemChain } from "./certs.js";
import { parseCollateral, type Collateral } from "./collateral.js";
import { parseCrl } from "./crl.js";
import { parseQuote } from "./parse-quote.js";
import { pckExtensions } from "./pck-extensions.js";
import type { ParsedQuote } from "./quote-types.js";
import { topLevelRaw } from "./raw-json.js";

export const INTEL_PCS_URL = "https://api.trustedservices.intel.com";
export const INTEL_ROOT_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

export interface FetchCollateralOptions {
  /** PCS or PCCS base URL (without /sgx/...); default Intel PCS. */
  readonly pccsUrl?: string;
  /** Where the root CA CRL is; default Intel's CDP for Intel PCS, {pccsUrl}/sgx/certification/v4/rootcacrl otherwise. */
  readonly rootCaCrlUrl?: string;
  readonly fetch?: typeof fetch;
  readonly cacheDir?: string;
  readonly now?: Date;
}

interface CacheEntry {
  readonly expiresAt: string;
  readonly collateral: unknown;
}

export async function fetchCollateral(quote: Uint8Array | ParsedQuote, options: FetchCollateralOptions = {}): Promise<Collateral> {
  const q = quote instanceof Uint8Array ? parseQuote(quote) : quote;
  const leaf = parsePemChain(q.signatureData.certification.pckChainPem, "PCK chain")[0];
  if (!leaf) throw new AttestationError(AttestCode.CERT_CHAIN_INVALID, "quote has no PCK certificate");
  const { fmspc, ca } = pckExtensions(leaf);
  const now = options.now ?? new Date();
  const cacheFile = options.cacheDir ? join(options.cacheDir, `${q.tee}-${fmspc}-${ca}.json`) : null;
  if (cacheFile) {
    const hit = await readCache(cacheFile, now);
    if (hit) return hit;
  }
  const base = (options.pccsUrl ?? INTEL_PCS_URL).replace(/\/+$/, "");
  const f = options.fetch ?? globalThis.fetch;
  const v4 = `${base}/${q.tee}/certification/v4`;

  const tcb = await get(f, `${v4}/tcb?fmspc=${fmspc}`);
  const qe = await get(f, `${v4}/qe/identity`);
  const pck = await get(f, `${base}/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`);
  const rootUrl = options.rootCaCrlUrl ?? (options.pccsUrl ? `${base}/sgx/certification/v4/rootcacrl` : INTEL_ROOT_CRL_URL);
  const root = await get(f, rootUrl);

  const tcbText = utf8(tcb.body);
  const qeText = utf8(qe.body);
  const collateral = parseCollateral({
    tcb_info: topLevelRaw(tcbText, "tcbInfo"),
    tcb_info_signature: jsonString(topLevelRaw(tcbText, "signature")),
    tcb_info_issuer_chain: header(tcb.headers, ["TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"]),
    qe_identity: topLevelRaw(qeText, "enclaveIdentity"),
    qe_identity_signature: jsonString(topLevelRaw(qeText, "signature")),
    qe_identity_issuer_chain: header(qe.headers, ["SGX-Enclave-Identity-Issuer-Chain", "Enclave-Identity-Issuer-Chain"]),
    pck_crl: toHex(crlDer(pck.body)),
    root_ca_crl: toHex(crlDer(root.body)),
    pck_crl_issuer_chain: header(pck.headers, ["SGX-PCK-CRL-Issuer-Chain"]),
  });
  if (cacheFile && options.cacheDir) await writeCache(options.cacheDir, cacheFile, collateral);
  return collateral;
}

function fetchFailed(message: string, cause?: unknown): AttestationError {
  return new AttestationError(AttestCode.COLLATERAL_FETCH_FAILED, message, cause === undefined ? undefined : { cause });
}

async function get(f: typeof fetch, url: string): Promise<{ body: Uint8Array; headers: Headers }> {
  let res: Response;
  try {
    res = await f(url);
  } catch (cause) {
    throw fetchFailed(`cannot reach ${new URL(url).origin}`, cause);
  }
  if (!res.ok) throw fetchFailed(`${new URL(url).pathname} answered HTTP ${res.status}`);
  return { body: new Uint8Array(await res.arrayBuffer()), headers: res.headers };
}

function header(h: Headers, names: readonly string[]): string {
  for (const n of names) {
    const v = h.get(n);
    if (v) return decodeURIComponent(v);
  }
  throw fetchFailed(`the PCS response lacks the ${names[0] ?? ""} header`);
}

function utf8(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}

function jsonString(raw: string): string {
  const v: unknown = JSON.parse(raw);
  if (typeof v !== "string") throw new AttestationError(AttestCode.COLLATERAL_INVALID, "PCS signature is not a string");
  return v;
}

/** CRLs come as DER (PCS, Intel CDP), hex text (PCCS rootcacrl) or PEM. */
function crlDer(body: Uint8Array): Uint8Array {
  if (body[0] === 0x30) return body;
  const text = utf8(body).trim();
  if (/^([0-9a-fA-F]{2})+$/.test(text)) return Uint8Array.from(Buffer.from(text, "hex"));
  const pem = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(text);
  if (pem?.[1]) return Uint8Array.from(Buffer.from(pem[1].replace(/\s+/g, ""), "base64"));
  throw new AttestationError(AttestCode.COLLATERAL_INVALID, "a CRL from the PCS is neither DER, hex nor PEM");
}

/** The earliest nextUpdate of the four documents: after it the set must be refreshed. */
export function collateralExpiry(c: Collateral): Date {
  const dates: number[] = [];
  for (const doc of [c.tcb_info, c.qe_identity]) {
    const v: unknown = JSON.parse(doc);
    const next = typeof v === "object" && v !== null ? Reflect.get(v, "nextUpdate") : undefined;
    if (typeof next === "string") dates.push(Date.parse(next));
  }
  for (const [hex, what] of [[c.pck_crl, "PCK CRL"], [c.root_ca_crl, "root CA CRL"]] as const) {
    const next = parseCrl(Uint8Array.from(Buffer.from(hex, "hex")), what).nextUpdate;
    if (next) dates.push(next.getTime());
  }
  return new Date(Math.min(...dates.filter((d) => Number.isFinite(d))));
}

async function readCache(file: string, now: Date): Promise<Collateral | null> {
  try {
    const entry = JSON.parse(await readFile(file, "utf8")) as CacheEntry;
    if (!(now < new Date(entry.expiresAt))) return null;
    return parseCollateral(entry.collateral);
  } catch {
    return null; // missing, unreadable or stale cache: fetch again
  }
}

async function writeCache(dir: string, file: string, collateral: Collateral): Promise<void> {
  const entry: CacheEntry = { expiresAt: collateralExpiry(collateral).toISOString(), collateral };
  await mkdir(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(entry));
  await rename(tmp, file);
}
