/**
 * google-libphonenumber's closure build compiles a new RegExp on every
 * `PhoneNumberUtil.matchesEntirely` call (`new RegExp("^(?:" + src + ")$", "i")`), which
 * was most of the phones layer's time. The library calls it through the class property,
 * so replacing that property with one that keeps the compiled expressions (same source,
 * same flags, so the same answers; the contract test checks this) removes the cost.
 * The patterns come from the library's fixed metadata: the cache is bounded by it.
 */
import lib from "google-libphonenumber";

type MatchesEntirely = (regex: string | RegExp, str: string) => boolean;
const util = lib.PhoneNumberUtil as unknown as { matchesEntirely: MatchesEntirely; cloisterCached?: true };

const compiled = new Map<string, RegExp>();

export function matchesEntirely(regex: string | RegExp, str: string): boolean {
  const source = typeof regex === "string" ? regex : regex.source;
  let re = compiled.get(source);
  if (re === undefined) {
    re = new RegExp(`^(?:${source})$`, "i");
    compiled.set(source, re);
  }
  const m = str.match(re);
  return m !== null && m[0].length === str.length;
}

/** The library's own function, kept for the contract test. */
export const originalMatchesEntirely: MatchesEntirely = util.matchesEntirely;

export function installPhoneRegexCache(): void {
  if (util.cloisterCached) return;
  util.matchesEntirely = matchesEntirely;
  util.cloisterCached = true;
}
