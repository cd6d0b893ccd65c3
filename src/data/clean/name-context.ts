/**
 * Document-level passes of the names layer, after the runs (detect-names.ts):
 * - an unknown proper noun a personal pronoun refers back to, or one spoken to at the
 *   start of a line, is a person (`contextPerson`);
 * - "A and B" with one unknown proper noun and one listed name are two people (`andPairs`);
 * - lists spread to their other members (`spreadLists`);
 * - a company word after a run, or the law-firm pattern, makes it a company (`isCompany`);
 * - a word of a found person's name is that person wherever else it stands (`repeats`).
 */
import { WORD } from "./lexicon.js";
import { PERSON_PRONOUN, VOCATIVE_REST } from "./name-rules.js";
import { adjacent, cap, common, has, initial, listed, sentenceStart, unknownProper, type Ctx, type NameToken } from "./name-tokens.js";
import { gap, isCapitalised } from "./tokens.js";

export type Run = [number, number];

/** The text up to the end of the next two sentences (where a pronoun still refers back). */
function twoSentences(s: string): string {
  let ends = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    // . ! ? followed by a space or the end, or a line break.
    if (ch === 10 || ((ch === 46 || ch === 33 || ch === 63) && (i + 1 === s.length || s.charCodeAt(i + 1) === 32))) {
      if (++ends === 2) return s.slice(0, i);
    }
  }
  return s;
}

/** "the Beatles", "a Ruoho novel": a person's name takes no article. */
export function afterArticle(c: Ctx, k: number): boolean {
  const prev = c.toks[k - 1];
  const t = c.toks[k];
  return !!prev && !!t && (prev.lower === "the" || prev.lower === "a" || prev.lower === "an") && gap(c.text, prev, t) === " ";
}

function lineStart(text: string, at: number): boolean {
  for (let i = at - 1; i >= 0; i--) {
    const ch = text.charAt(i);
    if (ch === "\n") return true;
    if (ch !== " " && ch !== "\t" && ch !== ">") return false;
  }
  return true;
}

/**
 * A run of unknown proper nouns that no name list or cue made a person: it is one when
 * "he"/"she"/"him"/"her"/"his" follows within two sentences (a company is "it"), or
 * when it begins a line that speaks to someone ("Warrane, can I speak to your boss?").
 */
export function contextPerson(c: Ctx, a: number, b: number): boolean {
  const words = c.toks.slice(a, b + 1).filter((t) => !has(t, WORD.particle) && !initial(c, t));
  if (words.length === 0 || !words.every((t) => unknownProper(c, t)) || afterArticle(c, a)) return false;
  const first = c.toks[a]!;
  const last = c.toks[b]!;
  const next = c.toks[b + 1];
  if (next && adjacent(c, last, next) && has(next, WORD.org)) return false;
  const after = c.text.slice(last.end, last.end + 200);
  if (lineStart(c.text, first.start) && VOCATIVE_REST.test(after)) return true;
  const m = PERSON_PRONOUN.exec(twoSentences(after));
  if (!m) return false;
  // The pronoun is another's when a name-like word stands between ("Estately songwriter Michele ... her").
  const to = last.end + m.index;
  for (let k = b + 1; k < c.toks.length && c.toks[k]!.start < to; k++) {
    const t = c.toks[k]!;
    if (cap(c, t) && !sentenceStart(c, k) && ((listed(t) && !common(t)) || unknownProper(c, t))) return false;
  }
  return true;
}

/** A capitalised word that may be a person's name beside a found one in "A and B". */
function andPartner(c: Ctx, t: NameToken): boolean {
  if (!isCapitalised(t.text) || t.lower.length < 2 || has(t, WORD.title | WORD.notName | WORD.org | WORD.particle)) return false;
  if (has(t, WORD.place) && !listed(t)) return false;
  return listed(t) || !has(t, WORD.common);
}

/** "Torpy and Salinas": an unknown proper noun and a listed name joined by "and", mid-sentence. */
export function andPairs(c: Ctx, taken: ReadonlySet<number>): Run[] {
  if (c.caseless) return [];
  const out: Run[] = [];
  for (let k = 1; k + 1 < c.toks.length; k++) {
    const and = c.toks[k]!;
    if (and.lower !== "and") continue;
    const x = c.toks[k - 1]!;
    const y = c.toks[k + 1]!;
    if (taken.has(k - 1) || taken.has(k + 1) || gap(c.text, x, and) !== " " || gap(c.text, and, y) !== " ") continue;
    if (!andPartner(c, x) || !andPartner(c, y) || afterArticle(c, k - 1)) continue;
    const ux = unknownProper(c, x);
    const uy = unknownProper(c, y);
    if ((ux && listed(y)) || (uy && listed(x))) {
      if (!ux && sentenceStart(c, k - 1) && has(x, WORD.common)) continue;
      out.push([k - 1, k - 1], [k + 1, k + 1]);
    }
  }
  return out;
}

/** "A, B and C": spread a run to single proper nouns listed with it. */
export function spreadLists(c: Ctx, runs: Run[]): Run[] {
  const taken = new Set<number>();
  for (const [a, b] of runs) for (let k = a; k <= b; k++) taken.add(k);
  const added: Run[] = [];
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
        let viaAnd = false;
        if (t.lower === "and" && g === " ") {
          nb += dir;
          const t2 = c.toks[nb];
          if (!t2) break;
          g = dir === 1 ? gap(c.text, t, t2) : gap(c.text, t2, t);
          t = t2;
          viaAnd = true;
        } else if (g !== ", ") break;
        if (g !== " " && g !== ", ") break;
        // Beside "and" a surname that is also a word is still a name ("Dale and White").
        const ok = candidate(t) || (viaAnd && !c.caseless && andPartner(c, t) && !(dir === -1 && sentenceStart(c, nb)));
        if (taken.has(nb) || !ok) break;
        added.push([nb, nb]);
        taken.add(nb);
        edge = nb;
      }
    }
  }
  return [...runs, ...added].sort((x, y) => x[0] - y[0]);
}

export function isCompany(c: Ctx, a: number, b: number): boolean {
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
    if (!x || !y || !and || !z || and.lower !== "and") continue;
    if (gap(c.text, x, y) !== ", " || gap(c.text, y, and) !== " " || gap(c.text, and, z) !== " ") continue;
    if (s !== k && s + 1 !== k && s + 3 !== k) continue;
    const before = c.toks[s - 1];
    if (before && gap(c.text, before, x) === ", ") continue;
    if (![x, y, z].every((t) => cap(c, t))) continue;
    if ([x, y, z].filter((t) => has(t, WORD.knownFirst)).length <= 1) return true;
  }
  return false;
}

/**
 * Every other place a word of a found person's name stands, capitalised as it was
 * ("directed by Joakim Westgård and starring Westgård"); an ordinary word ("Key") only
 * where its capital is not the sentence's, and never before a company word.
 */
export function repeats(c: Ctx, people: readonly Run[]): Run[] {
  const names = new Set<string>();
  const taken = new Set<number>();
  for (const [a, b] of people) {
    for (let k = a; k <= b; k++) {
      taken.add(k);
      const t = c.toks[k]!;
      if (t.text.length > 1 && !initial(c, t) && !has(t, WORD.particle | WORD.suffix | WORD.title)) names.add(c.caseless ? t.lower : t.text);
    }
  }
  if (names.size === 0) return [];
  const out: Run[] = [];
  for (let k = 0; k < c.toks.length; k++) {
    const t = c.toks[k]!;
    if (taken.has(k) || !names.has(c.caseless ? t.lower : t.text)) continue;
    if (has(t, WORD.common | WORD.english) && sentenceStart(c, k)) continue;
    const next = c.toks[k + 1];
    if (next && adjacent(c, t, next) && has(next, WORD.org)) continue;
    out.push([k, k]);
  }
  return out;
}
