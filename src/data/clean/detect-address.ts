/**
 * Layer 4: address grammar. A street line is a house number with street words that end
 * in a street suffix ("24 Clarke Avenue"), or street words followed by a house number
 * (the continental order: "Koskikatu 25", "ul. Biskupa Bogedaina 118"), or a street
 * prefix word ("rue de la Hulotais"). From a street line (or a PO box / military
 * address) the address continues over unit numbers, city names, state codes, countries
 * and postcodes separated by commas and line breaks. Units, PO boxes and postcodes with
 * a cue word also stand alone.
 */
import { lexicon } from "./lexicon.js";
import { grammar, STREET_TYPE_RE, type Grammar } from "./address-grammar.js";
import { digitCount, isCaseless } from "./tokens.js";
import { span, type Span } from "./types.js";

export const ENGLISH_SUFFIXES = new Set(["st", "rd", "ave", "av", "blvd", "ln", "dr", "ct", "pl", "sq", "hwy", "pkwy", "ter", "terr", "way", "cres", "close", "cl", "row", "walk", "wy", "trl", "cir", "crt", "grove", "gardens", "hill", "mews", "parade", "esplanade", "promenade", "broadway", "str"]);
// Street-name endings in other languages (Finnish -katu/-tie, Swedish -gatan/-vägen,
// Danish/Norwegian -vej/-gade/-veien/-gata, German -straße/-weg/-gasse, Dutch -straat/
// -laan/-weg/-plein, Estonian -tee, Hungarian -utca...).
export const STREET_MORPHEME = /(?:katu|kuja|tie|polku|gatan|vägen|gränd|vej|gade|veien|vegen|gata|gate|straße|strasse|weg|gasse|allee|platz|ring|damm|straat|laan|plein|singel|gracht|dijk|kade|tee|utca|iela|ulica|aleja|sokak|caddesi|cesta|ulice|brücke|bahn|markt|steig)$/i;
export const CORNER_HINT = /(?:corner|intersection|junction) of/i;
export const GRAMMARS = { cased: grammar(false), caseless: grammar(true) };

export const UNIT = String.raw`(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Fl\.?|Floor|Room|Rm\.?|Bldg\.?|Building|Box|#)\s*#?\d[\w-]*`;
export const POSTCODE = String.raw`(?:\d{2}-\d{3}|\d{3,6}(?:-\d{3,4})?|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d)`;
// One continuation segment, after a comma, a line break or (for units and postcodes) a space.
// A line break may be followed by a quoting ">" (e-mail replies).
export const CONT_SEP_RE = /^[ \t]*(?:[,\n][ \t]*>?[ \t]*)+|^[ \t]+/;
export const UNIT_AT = new RegExp(String.raw`^${UNIT}(?![\w])`, "u");
export const POSTCODE_AT = new RegExp(String.raw`^${POSTCODE}(?![\w])`, "u");
// A short code before a postcode ("KNIVSTA, NI 18237"; "OV 21072").
export const CODE_POSTCODE_AT = new RegExp(String.raw`^\p{L}{1,3}\s+${POSTCODE}(?![\w])`, "iu");

const STANDALONE: readonly RegExp[] = [
  /\b(?:Apt\.?|Apartment|Suite|Ste\.|Unit|Flat)\s*#?\d[\w-]*/gi,
  /\bP\.?\s?O\.?\s?Box\s+\d+/gi,
  /\bPSC\s+\d{3,5},?\s+Box\s+\d{3,5}/g,
  /\bUnit\s+\d{3,5}\s+Box\s+\d{3,5}/g,
  /\b(?:USS|USNS|USNV|USCGC)\s+\p{Lu}[\p{L}'’-]*/gu,
  /\b[AFD]PO\s+A[AEP]\s+\d{5}\b/g,
];
/**
 * What each STANDALONE pattern needs (exact gates: the words it cannot match without; its
 * case-insensitive ones are ASCII-only, so the lower-cased text has them when it matches).
 */
const STANDALONE_NEEDS: ReadonlyArray<(text: string, lower: string) => boolean> = [
  (_, l) => l.includes("apt") || l.includes("apartment") || l.includes("suite") || l.includes("ste.") || l.includes("unit") || l.includes("flat"),
  (_, l) => l.includes("box"),
  (t) => t.includes("PSC"),
  (t) => t.includes("Unit"),
  (t) => t.includes("US"),
  (t) => t.includes("PO"),
];
export const POSTCODE_CUE = new RegExp(String.raw`\b(?:zip(?:\s?code)?|postcode|postal code|post code|plz|cep)\b[:\s#]*(${POSTCODE})(?![\w])`, "giu");
// "Springfield, IL 62704" — a postcode with its city and state.
export const CITY_STATE_ZIP = /\b\p{Lu}[\p{L}'’.-]+(?:\s\p{Lu}[\p{L}'’.-]+){0,2},\s?[A-Z]{2}\s\d{5}(?:-\d{4})?\b/gu;

export function detectAddresses(text: string): Span[] {
  // Every address form has a digit (house number, unit, box, postcode).
  const digits = digitCount(text);
  if (digits === 0) return [];
  // A text in capitals only is read like one in lower case: its capitals say nothing.
  const caps = !/\p{Ll}/u.test(text);
  const caseless = isCaseless(text) || caps;
  const g = caseless ? GRAMMARS.caseless : GRAMMARS.cased;
  const out: Span[] = [];
  for (const m of [...leadMatches(text, g.lead), ...trailMatches(text, g.trail)]) {
    const end = streetEnd(m, caseless);
    if (end !== null) out.push(span(m.index, extend(text, end, g, caps), "ADDRESS", "address", 55));
  }
  if (CORNER_HINT.test(text)) for (const m of text.matchAll(g.corner)) out.push(span(m.index, extend(text, m.index + m[0].length, g, caps), "ADDRESS", "address", 55));
  const lower = text.toLowerCase();
  STANDALONE.forEach((re, k) => {
    if (!STANDALONE_NEEDS[k]!(text, lower)) return;
    for (const m of text.matchAll(re)) out.push(span(m.index, extend(text, m.index + m[0].length, g, caps), "ADDRESS", "address", 55));
  });
  // "ſ" folds to "s" under the u flag's case-insensitive matching ("poſtcode").
  const postcodeCue = lower.includes("zip") || lower.includes("post") || lower.includes("plz") || lower.includes("cep") || text.includes("ſ");
  if (postcodeCue) for (const m of text.matchAll(POSTCODE_CUE)) {
    const v = m[1] ?? "";
    const start = m.index + m[0].length - v.length;
    out.push(span(start, start + v.length, "ADDRESS", "address", 55));
  }
  if (digits >= 5) for (const m of text.matchAll(CITY_STATE_ZIP)) out.push(span(m.index, m.index + m[0].length, "ADDRESS", "address", 55));
  return out;
}

const isBlank = (c: number): boolean => c === 32 || c === 9;
const LETTER_AT = /\p{L}/uy;
const NOT_BEFORE_START = /[\p{L}\d/.-]/uy;
// A trail match's house number: a digit after a space or tab.
const NUMBER_AFTER_BLANK = /(?<=[ \t])\d/g;

const DIGIT_RUN = /\d+/g;

/** The lead form starts at a digit: run it sticky at each digit run's start (same matches as a global scan). */
export function leadMatches(text: string, sticky: RegExp): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  let pos = 0;
  for (const d of text.matchAll(DIGIT_RUN)) {
    if (d.index < pos) continue;
    sticky.lastIndex = d.index;
    const m = sticky.exec(text);
    if (m) {
      out.push(m);
      pos = d.index + m[0].length;
    }
  }
  return out;
}

/**
 * The trail form ("Koskikatu 25") ends in a house number after at most six words on the
 * same line, and its words carry no digit. Running it at every word start of a text is
 * what made the address layer slow, so it runs sticky at the word starts within six
 * blank-separated groups before each number instead. The result is the same as a global
 * scan: matches are taken leftmost first and never overlap.
 */
export function trailMatches(text: string, sticky: RegExp): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  let pos = 0;
  for (const n of text.matchAll(NUMBER_AFTER_BLANK)) {
    const q = n.index;
    if (q < pos) continue;
    // Back over the blanks before the number, then over up to six blank-separated groups.
    let i = q;
    let from = q;
    for (let groups = 0; groups < 6; groups++) {
      let k = i;
      while (k > 0 && isBlank(text.charCodeAt(k - 1))) k--;
      if (k === i || k === 0) break;
      let j = k;
      while (j > 0 && !isBlank(text.charCodeAt(j - 1)) && text.charCodeAt(j - 1) !== 10) j--;
      from = j;
      i = j;
      if (j > 0 && text.charCodeAt(j - 1) === 10) break;
    }
    for (let s = Math.max(from, pos); s < q; s++) {
      LETTER_AT.lastIndex = s;
      if (!LETTER_AT.test(text)) continue;
      if (s > 0) {
        NOT_BEFORE_START.lastIndex = s - 1;
        if (NOT_BEFORE_START.test(text)) continue;
      }
      sticky.lastIndex = s;
      const m = sticky.exec(text);
      if (m) {
        out.push(m);
        pos = s + m[0].length;
        break;
      }
    }
  }
  return out;
}

/**
 * Where a street-line match really ends, or null if it is not a street: the words are
 * cut back to the last one that makes them a street (a suffix such as "Avenue", a
 * street type such as "rue", a foreign street ending, or proper names before a number).
 */
function streetEnd(m: RegExpMatchArray, caseless: boolean): number | null {
  const lex = lexicon();
  const start = m.index ?? 0;
  const lead = m[1] || undefined;
  const wordsText = m[3] ?? "";
  const trail = m[4];
  const wordsStart = start + m[0].indexOf(wordsText, lead ? lead.length : 0);
  const words = [...wordsText.matchAll(/\S+/g)].map((w) => ({ w: w[0], end: wordsStart + w.index + w[0].length }));
  const ordinary = (w: string): boolean => {
    const l = w.replace(/\.$/, "").toLowerCase();
    return lex.englishWords.has(l) || lex.commonWords.has(l);
  };
  const isName = (w: string): boolean => caseless || /^\p{Lu}/u.test(w);
  if (!words.some((x) => isName(x.w))) return null;
  const typed = words.some((x) => STREET_TYPE_RE.test(x.w));
  const morpheme = words.some((x) => STREET_MORPHEME.test(x.w) && x.w.length > 5 && !ordinary(x.w));
  // Full match with the trailing house number: a typed or foreign-ending street, or a
  // house number, proper names (not English words) and a number ("6750 Koskikatu 25").
  if (trail !== undefined && (typed || morpheme)) return start + m[0].length;
  const properNames = words.every((x) => isName(x.w) && !ordinary(x.w) && !STREET_TYPE_RE.test(x.w));
  if (trail !== undefined && lead !== undefined && /^\d+\.?$/.test(trail) && properNames) return start + m[0].length;
  if (lead === undefined) return null;
  // With a leading house number: a street type first ("143 rue de la Paix") takes all
  // the words; otherwise cut at the last suffix or type word after a name ("24 Clarke Avenue").
  if (STREET_TYPE_RE.test(words[0]!.w)) return words[words.length - 1]!.end;
  for (let k = words.length - 1; k > 0; k--) {
    const w = words[k]!.w.replace(/\.$/, "").toLowerCase();
    if (lex.streetSuffixes.has(w) || ENGLISH_SUFFIXES.has(w) || STREET_TYPE_RE.test(words[k]!.w)) return words[k]!.end;
  }
  if (typed || morpheme) return words[words.length - 1]!.end;
  return null;
}

/** Follows an address over units, places and postcodes; returns the new end. */
function extend(text: string, from: number, g: Grammar, caps: boolean): number {
  let end = from;
  for (let n = 0; n < 8; n++) {
    const rest = text.slice(end, end + 120);
    const sep = CONT_SEP_RE.exec(rest);
    if (!sep) break;
    const strong = sep[0].includes(",") || sep[0].includes("\n");
    const after = rest.slice(sep[0].length);
    const unit = UNIT_AT.exec(after) ?? POSTCODE_AT.exec(after) ?? (strong ? CODE_POSTCODE_AT.exec(after) : null);
    if (unit) {
      end += sep[0].length + unit[0].length;
      continue;
    }
    const place = g.placeAt.exec(after);
    if (!place) break;
    let words = place[0];
    // Without a comma or line break, only words in capitals or known places continue the
    // address ("... Apt. 087 SAINT-PRIEST France"), so a following sentence is not swallowed.
    if (!strong) words = placePrefix(words, caps);
    if (!words || words.split(/\s+/).length > 5) break;
    end += sep[0].length + words.length;
  }
  return end;
}

function placePrefix(words: string, caps: boolean): string {
  const places = lexicon().places;
  let kept = "";
  for (const m of words.matchAll(/\S+/g)) {
    const w = m[0];
    const l = w.toLowerCase();
    const proper = /^\p{Lu}/u.test(w) && !lexicon().englishWords.has(l) && !lexicon().commonWords.has(l);
    // In a text in capitals only, a word in capitals is no sign of a place.
    if ((caps || !/^[\p{Lu}\d().-]+$/u.test(w)) && !places.has(l) && !proper) break;
    kept = words.slice(0, m.index + w.length);
  }
  return kept;
}
