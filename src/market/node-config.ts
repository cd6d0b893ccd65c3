/**
 * The market options of `cloister up` (parsed with the node's other flags in
 * src/config/node-config.ts; checked here so a bad --price is a usage error, exit 2):
 *   --register                 register on the market's registry at start, refresh before expiry
 *   --region R --location LAT,LON --price MODEL=PROMPT/COMPLETION (per million tokens, repeatable)
 *   --public-url URL           the endpoint to register (default: the URL the node listens on)
 *   --payout ADDRESS           where payments go (default: the operator account)
 *   --verifier URL             a verifier quorum member (repeatable; default: market.json's)
 *   --settle-every SECONDS     batch settlement period (default 300; 0 = only at start and stop)
 *   --receipt-every N          interim receipt every N completion tokens of a stream (default 16)
 *   --token-price WEI          also sell Privacy Pass tokens through the escrow, WEI token units each
 * plus the chain options every market command takes (--market, --chain-rpc, --chain-key-file,
 * and their CLOISTER_* variables: src/ledger/chain-config.ts).
 */
import { ConfigError } from "../errors.js";
import type { ChainFlags } from "../ledger/chain-config.js";

export interface PriceFlag {
  readonly model: string;
  readonly promptPerMTok: bigint;
  readonly completionPerMTok: bigint;
}

export interface MarketNodeFlags {
  readonly chain: ChainFlags;
  readonly region: string;
  readonly latE6: number;
  readonly lonE6: number;
  readonly prices: readonly PriceFlag[];
  readonly publicUrl: string | undefined;
  readonly payout: `0x${string}` | undefined;
  readonly verifierUrls: readonly string[] | undefined;
  readonly settleEverySeconds: number;
  readonly receiptEveryTokens: number;
  /** Sell anonymous tokens (POST /v1/tokens/buy) at this many token units each; absent = no sale. */
  readonly tokenPrice?: bigint;
}

export const MARKET_UP_OPTIONS = {
  market: { type: "string" },
  "chain-rpc": { type: "string" },
  "chain-key-file": { type: "string" },
  register: { type: "boolean" },
  region: { type: "string" },
  location: { type: "string" },
  price: { type: "string", multiple: true },
  "public-url": { type: "string" },
  payout: { type: "string" },
  verifier: { type: "string", multiple: true },
  "settle-every": { type: "string" },
  "receipt-every": { type: "string" },
  "token-price": { type: "string" },
} as const;

export const MARKET_UP_USAGE = `
  market (docs/notes/market.md):
  --register                 register on the market at start (env CLOISTER_REGISTER=1), refresh before expiry;
                             requests must then carry a spend permit (402 otherwise)
  --region R                 region label (env CLOISTER_REGION; default "local")
  --location LAT,LON         where the node is, degrees (env CLOISTER_LOCATION; default 0,0)
  --price MODEL=P/C          price per million prompt/completion tokens in token units (repeatable; env
                             CLOISTER_PRICES, ";"-separated)
  --public-url URL           endpoint to register (default: the URL the node listens on)
  --payout ADDRESS           payout address (default: the operator account)
  --verifier URL             verifier quorum member (repeatable; default: the market file's)
  --settle-every SECONDS     settle receipts in batches this often (default 300; 0: at start and stop only)
  --receipt-every N          a stream's interim receipt every N completion tokens (default 16: the most a crash loses)
  --token-price WEI          sell Privacy Pass tokens (POST /v1/tokens/buy, paid by spend permit) at WEI token
                             units each (env CLOISTER_TOKEN_PRICE); one token pays one request, no permit then
  --market FILE / --chain-rpc URL / --chain-key-file FILE   as for \`cloister escrow\` (env CLOISTER_MARKET,
                             CLOISTER_CHAIN_RPC, CLOISTER_CHAIN_KEY); the key is the operator's`;

type Env = Readonly<Record<string, string | undefined>>;
type Values = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

const bad = (m: string): ConfigError => new ConfigError("INVALID_OPTION", m);

function parsePrice(v: string): PriceFlag {
  const m = /^([^=\s]{1,200})=([0-9]{1,30})\/([0-9]{1,30})$/.exec(v.trim());
  if (!m) throw bad(`--price must be MODEL=PROMPT/COMPLETION (token units per million tokens), got "${v}"`);
  return { model: m[1]!, promptPerMTok: BigInt(m[2]!), completionPerMTok: BigInt(m[3]!) };
}

function micro(deg: number, limit: number, what: string): number {
  if (!Number.isFinite(deg) || Math.abs(deg) > limit) throw bad(`--location ${what} must be within ±${limit} degrees`);
  return Math.round(deg * 1e6);
}

/** Null when the node does not take part in the market (no --register). */
export function parseMarketFlags(values: Values, env: Env): MarketNodeFlags | null {
  const s = (k: string): string | undefined => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const list = (k: string): string[] => (Array.isArray(values[k]) ? (values[k] as unknown[]).filter((x): x is string => typeof x === "string") : []);
  const register = values["register"] === true || /^(1|true|yes|on)$/i.test(env["CLOISTER_REGISTER"] ?? "");
  if (!register) return null;
  const loc = s("location") ?? env["CLOISTER_LOCATION"] ?? "0,0";
  const lm = /^\s*(-?[0-9]+(?:\.[0-9]+)?)\s*,\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$/.exec(loc);
  if (!lm) throw bad(`--location must be LAT,LON in degrees, got "${loc}"`);
  const priceArgs = list("price").length ? list("price") : (env["CLOISTER_PRICES"] ?? "").split(";").filter((x) => x.trim());
  const prices = priceArgs.map(parsePrice);
  if (prices.length === 0) throw bad("--register needs at least one --price MODEL=PROMPT/COMPLETION");
  const num = (k: string, fallback: number, min: number): number => {
    const v = s(k);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw bad(`--${k} must be an integer >= ${min}`);
    return n;
  };
  const payout = s("payout");
  if (payout !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(payout)) throw bad("--payout must be a 0x address");
  const publicUrl = s("public-url");
  if (publicUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(publicUrl)) throw bad("--public-url must be an http(s) URL");
  const tokenPriceText = s("token-price") ?? env["CLOISTER_TOKEN_PRICE"];
  if (tokenPriceText !== undefined && !/^[1-9][0-9]{0,29}$/.test(tokenPriceText)) throw bad("--token-price must be a positive integer (token units per anonymous token)");
  const verifiers = list("verifier");
  if (verifiers.some((u) => !/^https?:\/\//.test(u))) throw bad("--verifier must be an http(s) URL");
  return {
    chain: { market: s("market"), "chain-rpc": s("chain-rpc"), "chain-key-file": s("chain-key-file") },
    region: (s("region") ?? env["CLOISTER_REGION"] ?? "local").slice(0, 64),
    latE6: micro(Number(lm[1]), 90, "latitude"),
    lonE6: micro(Number(lm[2]), 180, "longitude"),
    prices,
    publicUrl: publicUrl?.replace(/\/+$/, "").replace(/\/v1$/, ""),
    payout: payout?.toLowerCase() as `0x${string}` | undefined,
    verifierUrls: verifiers.length ? verifiers : undefined,
    settleEverySeconds: num("settle-every", 300, 0),
    receiptEveryTokens: num("receipt-every", 16, 1),
    ...(tokenPriceText !== undefined ? { tokenPrice: BigInt(tokenPriceText) } : {}),
  };
}
