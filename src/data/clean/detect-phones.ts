/**
 * Layer 1b: telephone numbers in any country's format, confirmed by libphonenumber's
 * metadata (google-libphonenumber). A candidate is a run of digit groups with the
 * separators people use; it is a phone if it is a valid number for one of the regions
 * tried, or a possible one when a cue word ("phone", "call", "fax") is near.
 */
import lib from "google-libphonenumber";
import { installPhoneRegexCache } from "./phone-regex-cache.js";
import { digitCount } from "./tokens.js";
import { span, type Span } from "./types.js";

installPhoneRegexCache();
const util = lib.PhoneNumberUtil.getInstance();

// Regions tried for numbers written without a country code, most-populous writers of
// English-language text first; the order only changes speed, not what is found.
export const REGIONS = [
  "US", "GB", "IN", "AU", "CA", "DE", "FR", "IT", "ES", "NL", "BE", "CH", "AT", "SE", "NO",
  "DK", "FI", "IS", "IE", "PT", "PL", "CZ", "SK", "HU", "RO", "BG", "GR", "CY", "EE", "LV",
  "LT", "HR", "SI", "RS", "UA", "RU", "TR", "IL", "ZA", "NG", "KE", "BR", "MX", "AR", "CL",
  "CO", "PE", "UY", "JP", "CN", "KR", "PH", "SG", "MY", "ID", "NZ",
] as const;

export const CANDIDATE_RE = /(?<![\w+])(?:\+|00)?\(?\d{1,4}\)?(?:[ .\-/]?\(?\d{1,5}\)?){1,6}(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?(?![\w])/gi;
export const CUE_RE = /\b(?:phone|tel(?:ephone)?|mobile|cell(?:phone)?|fax|call(?:ed|ing)?|text|sms|whatsapp|contact|reach|dial(?:led)?|landline|desk|office|home|work|number|no\.|ring)\b/i;
export const DATE_LIKE = /^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}:\d{2})$/;

export function detectPhones(text: string): Span[] {
  const out: Span[] = [];
  if (digitCount(text) < 7) return out;
  for (const m of text.matchAll(CANDIDATE_RE)) {
    const raw = m[0].replace(/[\s.\-/]+$/, "");
    const main = raw.replace(/\s?(?:x|ext\.?|extension)\s?\d+$/i, "");
    const digits = main.replace(/\D/g, "");
    if (digits.length < 7 || digits.length > 15) continue;
    if (DATE_LIKE.test(main)) continue;
    const international = main.startsWith("+") || main.startsWith("00");
    const separated = /[ .\-/()]/.test(main);
    const before = text.slice(Math.max(0, m.index - 40), m.index);
    const cued = CUE_RE.test(before);
    if (!international && !separated && !cued) continue;
    if (isPhone(main, international, cued)) out.push(span(m.index, m.index + raw.length, "PHONE", "phones", 60));
  }
  return out;
}

function isPhone(candidate: string, international: boolean, cued: boolean): boolean {
  const normal = candidate.startsWith("00") ? `+${candidate.slice(2)}` : candidate;
  if (international) {
    const p = tryParse(normal, "ZZ");
    return p !== null && (util.isValidNumber(p) || (cued && util.isPossibleNumber(p)));
  }
  // Valid for some region, or (with a cue) possible for one: a cued candidate is settled
  // by its first possible region, an uncued one needs no possibility test at all.
  for (const region of REGIONS) {
    const p = tryParse(normal, region);
    if (p === null) continue;
    if (util.isValidNumber(p)) return true;
    if (cued && util.isPossibleNumber(p)) return true;
  }
  return false;
}

function tryParse(s: string, region: string): ReturnType<typeof util.parseAndKeepRawInput> | null {
  try {
    return util.parseAndKeepRawInput(s, region);
  } catch {
    return null;
  }
}
