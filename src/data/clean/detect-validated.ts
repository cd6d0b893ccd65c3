/**
 * Layer 1: patterns whose candidates are confirmed by a validator (check digits,
 * structure, grammar). High priority: a Luhn-valid card is a card even inside an address.
 */
import { digitCount } from "./tokens.js";
import { span, type Span } from "./types.js";
import { cardValid, emailValid, ibanValid, ipValid, itinValid, ssnValid } from "./validators.js";

// Local part: RFC 5322 dot-atom characters; domain: LDH labels.
export const EMAIL_RE = /[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}/g;
export const IPV4_RE = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]|\.\d)/g;
export const IPV6_RE = /(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])/g;
// 12–19 digits in groups separated by single spaces or dashes.
export const CARD_RE = /(?<![\w-])\d(?:[ -]?\d){11,18}(?![\w-])/g;
export const SSN_RE = /(?<![\w-])\d{3}([- ]?)\d{2}\1\d{4}(?![\w-])/g;
export const IBAN_RE = /(?<![\w])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,30}(?![\w])/g;
export const URL_RE = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

/** Words before a dotted quad that make it a version, not an address. */
export const VERSION_CONTEXT = /(?:\bv(?:ersion)?|\brelease|\bbuild|\bver\.?|\bupgrade[sd]? to|\bupdate[sd]? to)\s*$/i;

export function detectValidated(text: string): Span[] {
  const out: Span[] = [];
  const digits = digitCount(text);
  if (text.includes("@")) for (const m of text.matchAll(EMAIL_RE)) {
    if (emailValid(m[0])) out.push(span(m.index, m.index + m[0].length, "EMAIL", "validators", 90));
  }
  if (text.includes("://")) for (const m of text.matchAll(URL_RE)) out.push(span(m.index, m.index + m[0].length, "URL", "validators", 40));
  // Cheap exact gates: each pattern needs the characters tested (colons, dots, digits).
  const colons = text.includes(":");
  if (digits < 4) {
    if (text.includes("::")) for (const m of text.matchAll(IPV6_RE)) if (m[0].includes("::") && ipValid(m[0])) out.push(span(m.index, m.index + m[0].length, "IP", "validators", 80));
    return out;
  }
  if (text.includes(".")) for (const m of text.matchAll(IPV4_RE)) {
    const before = text.slice(Math.max(0, m.index - 24), m.index);
    if (ipValid(m[0]) && !VERSION_CONTEXT.test(before)) out.push(span(m.index, m.index + m[0].length, "IP", "validators", 80));
  }
  if (colons) for (const m of text.matchAll(IPV6_RE)) {
    // At least one hex letter or a double colon: rules out times such as 12:30:45.
    if ((m[0].includes("::") || /[a-f]/i.test(m[0])) && m[0].split(":").length >= 3 && ipValid(m[0])) {
      out.push(span(m.index, m.index + m[0].length, "IP", "validators", 80));
    }
  }
  if (digits >= 12) for (const m of text.matchAll(CARD_RE)) {
    if (cardValid(m[0])) out.push(span(m.index, m.index + m[0].length, "CARD", "validators", 85));
  }
  if (digits >= 9) for (const m of text.matchAll(SSN_RE)) {
    // Bare nine-digit runs are too common (order numbers): only the dashed or spaced form
    // here; undelimited ones need a context word (context layer).
    if (m[1] === "") continue;
    if (ssnValid(m[0]) || itinValid(m[0])) out.push(span(m.index, m.index + m[0].length, "SSN", "validators", 85));
  }
  for (const m of text.matchAll(IBAN_RE)) {
    // The grouped form may run into the next word ("... 7654 32 today"): drop trailing
    // groups until the check digits hold.
    let cand = m[0];
    while (cand.length >= 15 && !ibanValid(cand)) {
      const cut = cand.search(/[ -][^ -]*$/);
      if (cut < 0) break;
      cand = cand.slice(0, cut);
    }
    if (ibanValid(cand)) out.push(span(m.index, m.index + cand.length, "BANK_ACCOUNT", "validators", 90));
  }
  return out;
}
