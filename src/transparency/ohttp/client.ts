/**
 * A `fetch` that sends every request through an OHTTP relay, encapsulated to the
 * gateway's key (RFC 9458). The key configuration comes from the relay, so it is
 * untrusted until compared with the node's attested E2E key (createVerifiedFetch does).
 */
import { BHttpDecoder } from "bhttp-js";
import { encodeBinaryRequest } from "./bhttp.js";
import { TransparencyCode, TransparencyError } from "../errors.js";
import { encapsulateRequest } from "./encapsulation.js";
import { decodeKeyConfig, OHTTP_KEYS_TYPE, OHTTP_REQUEST_TYPE, OHTTP_RESPONSE_TYPE, type KeyConfig } from "./key-config.js";

export interface OhttpTransport {
  readonly fetch: typeof fetch;
  /** The gateway key configuration in use (fetched from the relay on first use). */
  keyConfig(): Promise<KeyConfig>;
}

export function parseOhttpKeys(bytes: Uint8Array): KeyConfig[] {
  const out: KeyConfig[] = [];
  for (let o = 0; o < bytes.length; ) {
    if (o + 2 > bytes.length) throw new TransparencyError(TransparencyCode.OHTTP_KEY_CONFIG_INVALID, "truncated application/ohttp-keys");
    const len = ((bytes[o] as number) << 8) | (bytes[o + 1] as number);
    out.push(decodeKeyConfig(bytes.slice(o + 2, o + 2 + len)));
    o += 2 + len;
  }
  if (out.length === 0) throw new TransparencyError(TransparencyCode.OHTTP_KEY_CONFIG_INVALID, "no OHTTP key configuration");
  return out;
}

export function createOhttpTransport(opts: { relayUrl: string; fetch?: typeof fetch }): OhttpTransport {
  const net = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const relay = opts.relayUrl.replace(/\/+$/, "");
  let config: Promise<KeyConfig> | null = null;
  const keyConfig = (): Promise<KeyConfig> =>
    (config ??= (async () => {
      const r = await net(`${relay}/ohttp-keys`, { redirect: "error" });
      if (!r.ok || r.headers.get("content-type") !== OHTTP_KEYS_TYPE) throw new TransparencyError(TransparencyCode.OHTTP_KEY_CONFIG_INVALID, `the relay gave no key configuration (HTTP ${r.status})`);
      const first = parseOhttpKeys(new Uint8Array(await r.arrayBuffer()))[0] as KeyConfig;
      return first;
    })().catch((e: unknown) => {
      config = null;
      throw e;
    }));

  const ohttpFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const ctx = await encapsulateRequest(await keyConfig(), await encodeBinaryRequest(req));
    const r = await net(relay, { method: "POST", body: ctx.encapsulated.slice(), headers: { "content-type": OHTTP_REQUEST_TYPE }, redirect: "error", ...(init?.signal ? { signal: init.signal } : {}) });
    if (!r.ok || r.headers.get("content-type") !== OHTTP_RESPONSE_TYPE) {
      throw new TransparencyError(TransparencyCode.OHTTP_DECAPSULATION_FAILED, `the relay or gateway refused the encapsulated request (HTTP ${r.status})`);
    }
    const inner = await ctx.openResponse(new Uint8Array(await r.arrayBuffer()));
    return new BHttpDecoder().decodeResponse(inner);
  };
  return { fetch: ohttpFetch as typeof fetch, keyConfig };
}
