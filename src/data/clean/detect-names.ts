/**
 * Layer 3: people and places from name lists across cultures (lexicon.ts) and the shape
 * of names in English text. A person is a run of name-like words seeded by:
 * - a word the lists know as a name that is not an ordinary English word (or that
 *   compromise tags as a name: "John", not "Will");
 * - a courtesy title ("Dr.", "Mrs.") or a cue ("my name is", "called", "Name:", "'s",
 *   "... lives at", "... said") next to a capitalised word;
 * - a capitalised word no English list knows with a surname ending of some language
 *   (-ov, -ska, -sson, -dóttir, -ić, -escu, -yama ...);
 * and extended over adjacent capitalised words, initials and surname particles. Lists
 * of single names ("Gaetane, Hannah and Anthony") spread to their unknown members;
 * a run followed by a company word ("Johnson Controls") or a list of surnames only
 * ("Davis, Reynolds and Williamson", the law-firm pattern) is a company, not a person.
 * Documents written all in lower case are read case-insensitively.
 */
import { lexicon, WORD, type Lexicon } from "./lexicon.js";
import { PERSON_CUE_AFTER, PERSON_CUE_BEFORE, SURNAME_ENDING } from "./name-rules.js";
import { gap, isAllCaps, isCapitalised, isCaseless, tokenize, type Token } from "./tokens.js";
import { span, type Span } from "./types.js";

/**
 * A token with its word-list bits (Lexicon.wordFlags), looked up on first use: most
 * tokens are lower-case words no rule asks about, and a lookup in the 300k-word map
 * costs a cache miss.
 */
interface NameToken extends Token {
  f: number;
}
let flagMap: ReadonlyMap<string, number> = new Map();

interface Ctx {
  readonly text: string;
  readonly toks: NameToken[];
  readonly lex: Lexicon;
  readonly caseless: boolean;
  /** Offsets where a person cue ends, computed on first use. */
  cueEnds?: Set<number>;
}

function cuedBefore(c: Ctx, at: number): boolean {
  if (!c.cueEnds) {
    c.cueEnds = new Set();
    for (const m of c.text.matchAll(PERSON_CUE_BEFORE)) c.cueEnds.add(m.index + m[0].length);
  }
  return c.cueEnds.has(at);
}

function lowerOf(t: Token): string {
  return t.lower;
}
function isInitial(t: Token): boolean {
  return t.text.length === 1 && /^\p{Lu}$/u.test(t.text);
}
// Tokens are letters or digits, never both (TOKEN_RE): a digit token starts with one.
function isNumber(t: Token): boolean {
  const c = t.text.charCodeAt(0);
  return c >= 48 && c <= 57;
}
function has(t: NameToken, bits: number): boolean {
  if (t.f < 0) t.f = flagMap.get(t.lower) ?? 0;
  return (t.f & bits) !== 0;
}

function cap(c: Ctx, t: Token): boolean {
  return c.caseless ? /^\p{L}/u.test(t.text) : isCapitalised(t.text);
}
const LISTED = WORD.first | WORD.last;
const COMMON = WORD.common | WORD.notName | WORD.title | WORD.org;
function listed(t: NameToken): boolean {
  return has(t, LISTED);
}
function common(t: NameToken): boolean {
  return has(t, COMMON);
}
function english(t: NameToken): boolean {
  return has(t, WORD.english);
}
/** A listed name that is not also an ordinary word. */
function strongName(t: NameToken): boolean {
  if (t.lower.length < 2 || common(t)) return false;
  return has(t, WORD.known) || (listed(t) && !english(t));
}
/** Capitalised, no English list knows it, not a place: a proper noun of unknown kind. */
function unknownProper(c: Ctx, t: NameToken): boolean {
  return cap(c, t) && t.lower.length > 1 && !isNumber(t) && !common(t) && !english(t) && !has(t, WORD.place);
}
function adjacent(c: Ctx, a: Token, b: Token): boolean {
  const g = gap(c.text, a, b);
  return g === " " || g === ". " || (g === "." && isInitial(a)) || g === "-";
}

/** May this token be part of a name run? Capitalised and not a common word, or an initial. */
function inRun(c: Ctx, t: NameToken): boolean {
  if (!cap(c, t) || isNumber(t)) return false;
  if (isInitial(t)) return true;
  if (has(t, WORD.title | WORD.notName | WORD.org)) return false;
  // A common word stays in a run only if a name list has it ("Sparks", "Will", "Crystal").
  return !has(t, WORD.common) || listed(t);
}

/** Is the run [a, b] (tokens that may be a name) a person? */
function isPerson(c: Ctx, a: number, b: number): boolean {
  const toks = c.toks.slice(a, b + 1).filter((t) => !has(t, WORD.particle));
  const words = toks.filter((t) => !isInitial(t));
  if (words.length === 0) return false;
  if (words.some((t) => strongName(t))) return true;
  const first = c.toks[a]!;
  const last = c.toks[b]!;
  const prev = c.toks[a - 1];
  if (prev && has(prev, WORD.title) && /^[ .]+$/.test(gap(c.text, prev, first))) return true;
  const proper = words.some((t) => !english(t) || listed(t));
  if (proper && cuedBefore(c, first.start)) return true;
  if (proper && PERSON_CUE_AFTER.test(c.text.slice(last.end, last.end + 30))) return true;
  // Two or more unknown proper nouns in a row, or one with a surname ending.
  if (words.filter((t) => unknownProper(c, t)).length >= 2 && words.length === toks.length) return true;
  return words.some((t) => unknownProper(c, t) && SURNAME_ENDING.test(lowerOf(t)));
}

export function detectNames(text: string): Span[] {
  const lex = lexicon();
  flagMap = lex.wordFlags;
  const toks = tokenize(text).map((t): NameToken => ({ text: t.text, lower: t.lower, start: t.start, end: t.end, f: -1 }));
  const c: Ctx = { text, toks, lex, caseless: isCaseless(text) };
  const runs: Array<[number, number]> = [];
  let i = 0;
  while (i < toks.length) {
    const t = toks[i]!;
    if (!inRun(c, t)) {
      i++;
      continue;
    }
    let last = i;
    while (last + 1 < toks.length) {
      const n = toks[last + 1]!;
      const cur = toks[last]!;
      if (!adjacent(c, cur, n)) break;
      if (has(n, WORD.particle)) {
        const after = toks[last + 2];
        if (after && adjacent(c, n, after) && inRun(c, after)) {
          last += 2;
          continue;
        }
        break;
      }
      if (has(n, WORD.suffix) || !inRun(c, n)) break;
      if (!c.caseless && n.text.length > 1 && isAllCaps(n.text) !== isAllCaps(cur.text)) break;
      last++;
    }
    // A run ending in an initial is a run that ended early ("Brad L" before "Key").
    while (last > i && isInitial(toks[last]!)) last--;
    if (isPerson(c, i, last)) runs.push([i, last]);
    i = last + 1;
  }
  const people = spreadLists(c, runs).filter(([a, b]) => !isCompany(c, a, b));
  const out: Span[] = [];
  for (const [a, b] of people) {
    const s = toks[a];
    const e = toks[b];
    if (s && e) out.push(span(s.start, e.end, "PERSON", "names", 50));
  }
  return out.concat(detectPlaces(c));
}

/** "A, B and C": spread a run to single proper nouns listed with it. */
function spreadLists(c: Ctx, runs: Array<[number, number]>): Array<[number, number]> {
  const taken = new Set<number>();
  for (const [a, b] of runs) for (let k = a; k <= b; k++) taken.add(k);
  const added: Array<[number, number]> = [];
  const candidate = (t: NameToken): boolean => unknownProper(c, t) || (cap(c, t) && listed(t) && !common(t));
  for (const [a, b] of runs) {
    for (const dir of [-1, 1] as const) {
      let edge = dir === 1 ? b : a;
      for (;;) {
        let nb = edge + dir;
        let t = c.toks[nb];
        const cur = c.toks[edge];
        if (!t || !cur) break;
        let g = dir === 1 ? gap(c.text, cur, t) : gap(c.text, t, cur);
        if (lowerOf(t) === "and" && g === " ") {
          nb += dir;
          const t2 = c.toks[nb];
          if (!t2) break;
          g = dir === 1 ? gap(c.text, t, t2) : gap(c.text, t2, t);
          t = t2;
        } else if (g !== ", ") break;
        if (g !== " " && g !== ", ") break;
        if (taken.has(nb) || !candidate(t)) break;
        added.push([nb, nb]);
        taken.add(nb);
        edge = nb;
      }
    }
  }
  return [...runs, ...added].sort((x, y) => x[0] - y[0]);
}

function isCompany(c: Ctx, a: number, b: number): boolean {
  const next = c.toks[b + 1];
  const last = c.toks[b];
  if (next && last && adjacent(c, last, next) && has(next, WORD.org)) return true;
  return lawFirm(c, a) || lawFirm(c, b);
}

/**
 * The law-firm pattern "Surname, Surname and Surname": exactly three single capitalised
 * words, at most one of them a given name compromise knows. A list of given names
 * ("Gaetane, Hannah and Anthony") is people.
 */
function lawFirm(c: Ctx, k: number): boolean {
  for (let s = Math.max(0, k - 3); s <= k; s++) {
    const [x, y, and, z] = [c.toks[s], c.toks[s + 1], c.toks[s + 2], c.toks[s + 3]];
    if (!x || !y || !and || !z || lowerOf(and) !== "and") continue;
    if (gap(c.text, x, y) !== ", " || gap(c.text, y, and) !== " " || gap(c.text, and, z) !== " ") continue;
    if (s !== k && s + 1 !== k && s + 3 !== k) continue;
    const before = c.toks[s - 1];
    if (before && gap(c.text, before, x) === ", ") continue;
    if (![x, y, z].every((t) => cap(c, t))) continue;
    if ([x, y, z].filter((t) => has(t, WORD.knownFirst)).length <= 1) return true;
  }
  return false;
}

/** Capitalised one- to three-word sequences the gazetteer knows as cities, states or countries. */
function detectPlaces(c: Ctx): Span[] {
  const out: Span[] = [];
  const { toks, text, lex } = c;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (!t || !isCapitalised(t.text) || isInitial(t)) continue;
    // Longer phrases only where some multi-word place starts with this word.
    for (let n = lex.placeFirstWords.has(t.lower) ? 3 : 1; n >= 1; n--) {
      const end = toks[i + n - 1];
      if (!end) continue;
      const phrase = n === 1 ? t.text : text.slice(t.start, end.end);
      if (n > 1 && /[\n,;:]/.test(phrase)) continue;
      const lower = n === 1 ? t.lower : phrase.toLowerCase();
      if (n === 1 ? !has(t, WORD.place) : !lex.places.has(lower)) continue;
      // An ordinary word that is also a place ("Reading", "Nice") needs to be in capitals.
      if (n === 1 && has(t, WORD.english | WORD.common) && !isAllCaps(t.text)) continue;
      out.push(span(t.start, end.end, "LOCATION", "names", 30));
      i += n - 1;
      break;
    }
  }
  return out;
}
