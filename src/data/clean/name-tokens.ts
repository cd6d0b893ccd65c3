/**
 * What the names layer asks of one token: its word-list bits, whether it is capitalised,
 * an initial, a listed or unknown name. Shared by the run builder (detect-names.ts) and
 * the document-level passes (name-context.ts).
 */
import { WORD, type Lexicon } from "./lexicon.js";
import { JOINED_ARTICLE, PERSON_CUE_BEFORE } from "./name-rules.js";
import { gap, isCapitalised, type Token } from "./tokens.js";

/**
 * A token with its word-list bits (Lexicon.wordFlags), looked up on first use: most
 * tokens are lower-case words no rule asks about, and a lookup in the 300k-word map
 * costs a cache miss.
 */
export interface NameToken extends Token {
  f: number;
}
let flagMap: ReadonlyMap<string, number> = new Map();
/**
 * The words looked up lately, in front of the 300k-word map: a few thousand words make
 * most lookups (capitalised sentence starts, common names) and a small map stays in cache.
 */
const recent = new Map<string, number>();
const RECENT_MAX = 4096;
/**
 * Empties the recent-word map. The bench calls it before each timed pass: a pass over the
 * same texts as the pass before would otherwise find all their words there already.
 */
export function forgetRecentWords(): void {
  recent.clear();
}
/** The lexicon `has` looks tokens up in (set once per document by detectNames). */
export function useFlags(lex: Lexicon): void {
  if (flagMap !== lex.wordFlags) recent.clear();
  flagMap = lex.wordFlags;
}

export interface Ctx {
  readonly text: string;
  readonly toks: NameToken[];
  readonly lex: Lexicon;
  readonly caseless: boolean;
  /** Offsets where a person cue ends, computed on first use. */
  cueEnds?: Set<number>;
}

export function cuedBefore(c: Ctx, at: number): boolean {
  if (!c.cueEnds) {
    c.cueEnds = new Set();
    for (const m of c.text.matchAll(PERSON_CUE_BEFORE)) c.cueEnds.add(m.index + m[0].length);
  }
  return c.cueEnds.has(at);
}

export function isInitial(t: Token): boolean {
  return t.text.length === 1 && /^\p{Lu}$/u.test(t.text);
}
/** An initial; in a lower-case document any single letter but the words "a" and "i". */
export function initial(c: Ctx, t: Token): boolean {
  if (isInitial(t)) return true;
  return c.caseless && t.text.length === 1 && t.lower !== "a" && t.lower !== "i" && /^\p{L}$/u.test(t.text);
}
// Tokens are letters or digits, never both (TOKEN_RE): a digit token starts with one.
export function isNumber(t: Token): boolean {
  const c = t.text.charCodeAt(0);
  return c >= 48 && c <= 57;
}
export function has(t: NameToken, bits: number): boolean {
  if (t.f < 0) {
    let f = recent.get(t.lower);
    if (f === undefined) {
      f = flagMap.get(t.lower) ?? 0;
      if (recent.size >= RECENT_MAX) recent.clear();
      recent.set(t.lower, f);
    }
    t.f = f;
  }
  return (t.f & bits) !== 0;
}

export function cap(c: Ctx, t: Token): boolean {
  if (c.caseless) return /^\p{L}/u.test(t.text);
  return isCapitalised(t.text) || (t.text.charCodeAt(2) === 45 || t.text.charCodeAt(3) === 45 ? JOINED_ARTICLE.test(t.text) : false);
}
const LISTED = WORD.first | WORD.last;
const COMMON = WORD.common | WORD.notName | WORD.title | WORD.org;
export function listed(t: NameToken): boolean {
  return has(t, LISTED);
}
export function common(t: NameToken): boolean {
  return has(t, COMMON);
}
export function english(t: NameToken): boolean {
  return has(t, WORD.english);
}
/** A listed name that is not also an ordinary word. */
export function strongName(t: NameToken): boolean {
  if (t.lower.length < 2 || common(t)) return false;
  return has(t, WORD.known) || (listed(t) && !english(t));
}
/** A strong name some list has as a given name ("Rebecca", "Brad"): a surname may follow it. */
export function givenName(t: NameToken): boolean {
  return strongName(t) && has(t, WORD.first | WORD.knownFirst);
}
/** Capitalised, no English list knows it, not a place: a proper noun of unknown kind. */
export function unknownProper(c: Ctx, t: NameToken): boolean {
  return cap(c, t) && t.lower.length > 1 && !isNumber(t) && !common(t) && !english(t) && !has(t, WORD.place);
}
export function adjacent(c: Ctx, a: Token, b: Token): boolean {
  const g = gap(c.text, a, b);
  return g === " " || g === ". " || (g === "." && initial(c, a)) || g === "-";
}
/** Does token k start a sentence or a line (where a capital says nothing)? */
export function sentenceStart(c: Ctx, k: number): boolean {
  const prev = c.toks[k - 1];
  const t = c.toks[k];
  if (!prev || !t) return true;
  return /[.!?\n"“:]/.test(gap(c.text, prev, t));
}
