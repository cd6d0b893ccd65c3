/**
 * Layer 3: people and places from name lists across cultures (lexicon.ts) and the shape
 * of names in English text. A person is a run of name-like words seeded by:
 * - a word the lists know as a name that is not an ordinary English word (or that
 *   compromise tags as a name: "John", not "Will");
 * - a courtesy title ("Dr.", "Mrs.") or a cue ("my name is", "called", "Name:", "'s",
 *   "... lives at", "... said") next to a capitalised word;
 * - a capitalised word no English list knows with a surname ending of some language
 *   (-ov, -ska, -sson, -dóttir, -ić, -escu, -yama ...);
 * - capitalised words with at least one unknown proper noun and the rest name-like
 *   ("Tzigane Lantos", "Landerico B Hidalgo");
 * - an unknown proper noun a personal pronoun refers back to ("Shovda is reliable ...
 *   depend on him"), or one spoken to at the start of a line ("Warrane, can I ...");
 * - "A and B" where one is an unknown proper noun and the other a listed name;
 * and extended over adjacent capitalised words, initials, chains of surname particles
 * ("van de Noort"), any capitalised word after a given name or an initial ("Rebecca
 * Hides", "Brad L Key", "Mrs. Baker"), and a generational or degree suffix ("II", "MD").
 * Lists of single names ("Gaetane, Hannah and Anthony") spread to their other members;
 * a word of a found person's name is that person wherever else it stands ("directed by
 * Joakim Westgård and starring Westgård"); a run followed by a company word ("Johnson
 * Controls") or a list of surnames only ("Davis, Reynolds and Williamson", the law-firm
 * pattern) is a company, not a person. Documents written all in lower case, or all in
 * capitals, are read case-insensitively (a single letter there is an initial, a common
 * word ends a name); in a cased document a lower-case word no English list has is a name
 * after an abbreviated title or a self-introduction ("mr. kowalczyk", "my name is dagny").
 */
import { lexicon, WORD } from "./lexicon.js";
import { nameLikely } from "./name-likely.js";
import { andPairs, contextPerson, isCompany, repeats, spreadLists, type Run } from "./name-context.js";
import { ABBREVIATED_TITLES, INTRODUCED_BEFORE, PERSON_CUE_AFTER, PLACE_PREPOSITIONS, SAID_BEFORE, SAID_NAME_AFTER, SURNAME_ENDING } from "./name-rules.js";
import {
  adjacent, cap, common, cuedBefore, english, givenName, has, initial, isInitial, isNumber, listed, strongName, unknownProper, useFlags,
  type Ctx, type NameToken,
} from "./name-tokens.js";
import { gap, isAllCaps, isCapitalised, isCaseless, scanTokens } from "./tokens.js";
import { span, type Span } from "./types.js";

/** May this token be part of a name run? Capitalised and not a common word, or an initial. */
function inRun(c: Ctx, t: NameToken): boolean {
  if (!cap(c, t) || isNumber(t)) return false;
  if (initial(c, t)) return true;
  if (has(t, WORD.title | WORD.notName | WORD.org)) return false;
  // In a lower-case document every word "is capitalised": there an ordinary word ends a name.
  if (c.caseless) return !has(t, WORD.common) && (!english(t) || listed(t));
  // In capitals a capital says nothing: there an ordinary word ends a name ("ANNA KARLSSON WILL").
  if (isAllCaps(t.text)) return !has(t, WORD.common);
  // A common word stays in a run only if a name list has it ("Sparks", "Will", "Crystal").
  return !has(t, WORD.common) || listed(t);
}

/** A capitalised word that is not a title, company word, suffix, particle or (unless allowed) street word. */
function plainCapital(t: NameToken, streetOk = false): boolean {
  const not = WORD.title | WORD.notName | WORD.org | WORD.suffix | WORD.particle | (streetOk ? 0 : WORD.street);
  return isCapitalised(t.text) && t.text.length > 1 && !isNumber(t) && !has(t, not);
}

/** The word right after a courtesy title ("Mrs. Baker", "Dr. Key"): a name, whatever else it is. */
function afterTitle(c: Ctx, i: number): boolean {
  const prev = c.toks[i - 1];
  const t = c.toks[i]!;
  // Cheap tests first: this runs for every token that starts no run.
  if (c.caseless || !prev || !isCapitalised(t.text) || prev.end + 2 < t.start) return false;
  return has(prev, WORD.title) && /^\.? $|^\.$/.test(gap(c.text, prev, t)) && plainCapital(t);
}

/**
 * "mr. kowalczyk", "my name is dagny" in a text that has capitals elsewhere: a lower-case
 * word no English list has, after an abbreviated title or a self-introduction.
 */
function lowerNameAfterCue(c: Ctx, i: number): boolean {
  const prev = c.toks[i - 1];
  const t = c.toks[i]!;
  if (c.caseless || !prev || isCapitalised(t.text) || t.text.length < 2 || isNumber(t)) return false;
  if (english(t) || has(t, WORD.common | WORD.notName | WORD.org | WORD.place | WORD.particle)) return false;
  if (ABBREVIATED_TITLES.has(prev.lower) && /^\.? $/.test(gap(c.text, prev, t))) return true;
  return INTRODUCED_BEFORE.test(c.text.slice(Math.max(0, t.start - 16), t.start));
}

/** After a given name, or an initial that follows one, any capitalised word is the surname ("Rebecca Hides", "Brad L Key"). */
function surnameSlot(c: Ctx, i: number, last: number, n: NameToken): boolean {
  // In capitals ("CALL JOHN SMITH TOMORROW") a capital says nothing of a surname.
  if (c.caseless || !plainCapital(n, true) || isAllCaps(n.text)) return false;
  const cur = c.toks[last]!;
  const g = gap(c.text, cur, n);
  // "Inna Loop" is a street; after an initial a street word is a surname ("Brad L Key").
  if (givenName(cur)) return g === " " && !has(n, WORD.street);
  if (!initial(c, cur) || (g !== " " && g !== ". ")) return false;
  for (let k = last - 1; k >= i; k--) if (givenName(c.toks[k]!)) return true;
  return false;
}

/** Is the run [a, b] (tokens that may be a name) a person? */
function isPerson(c: Ctx, a: number, b: number): boolean {
  const toks = c.toks.slice(a, b + 1).filter((t) => !has(t, WORD.particle));
  const words = toks.filter((t) => !initial(c, t));
  if (words.length === 0) return false;
  const first = c.toks[a]!;
  const last = c.toks[b]!;
  const prev = c.toks[a - 1];
  // One word that is both a name and a place, after a preposition of place, is the place.
  if (a === b && has(first, WORD.place) && prev && PLACE_PREPOSITIONS.has(prev.lower) && gap(c.text, prev, first) === " ") return false;
  if (words.some((t) => strongName(t))) return true;
  if (prev && has(prev, WORD.title) && /^[ .]+$/.test(gap(c.text, prev, first))) return true;
  const proper = words.some((t) => !english(t) || listed(t));
  if (proper && cuedBefore(c, first.start)) return true;
  if (proper && PERSON_CUE_AFTER.test(c.text.slice(last.end, last.end + 30))) return true;
  if (proper && SAID_BEFORE.test(c.text.slice(Math.max(0, first.start - 8), first.start)) && SAID_NAME_AFTER.test(c.text.slice(last.end, last.end + 8))) return true;
  const unknown = words.filter((t) => unknownProper(c, t)).length;
  // Two or more unknown proper nouns in a row, or one with a surname ending.
  if (unknown >= 2 && words.length === toks.length) return true;
  if (words.some((t) => unknownProper(c, t) && SURNAME_ENDING.test(t.lower))) return true;
  // First, initial, last ("leidy t muris", "Brad L Key"), also in a lower-case document.
  const inner = c.toks.slice(a + 1, b).some((t) => initial(c, t));
  if (inner && words.length >= 2 && words.every((t) => !common(t))) return true;
  // One unknown proper noun among name-like words ("Tzigane Lantos", "Landerico B Hidalgo");
  // an English word only before it ("Erwetegem Country" is a club).
  const end = words[words.length - 1]!;
  if (!c.caseless && unknown >= 1 && words.length >= 2 && (listed(end) || unknownProper(c, end))) {
    if (words.every((t) => !common(t) && !has(t, WORD.street) && (!has(t, WORD.place) || listed(t)))) return true;
  }
  if (contextPerson(c, a, b)) return true;
  // A lone unknown word whose letters look like a name, where a name is grammatical.
  return a === b && nameLikely(c, a);
}

export function detectNames(text: string): Span[] {
  const lex = lexicon();
  useFlags(lex);
  const toks = scanTokens(text, (w, lower, start, end): NameToken => ({ text: w, lower, start, end, f: -1 }));
  // A text in capitals only says as little with its capitals as one in lower case.
  const c: Ctx = { text, toks, lex, caseless: isCaseless(text) || !/\p{Ll}/u.test(text) };
  const runs: Run[] = [];
  const taken = new Set<number>();
  let i = 0;
  while (i < toks.length) {
    const t = toks[i]!;
    if (!inRun(c, t) && !afterTitle(c, i)) {
      if (lowerNameAfterCue(c, i)) {
        runs.push([i, i]);
        taken.add(i);
      }
      i++;
      continue;
    }
    let last = i;
    while (last + 1 < toks.length) {
      const n = toks[last + 1]!;
      const cur = toks[last]!;
      if (!adjacent(c, cur, n)) break;
      if (has(n, WORD.particle)) {
        // A chain of particles before the surname ("van de Noort", "de la Cruz").
        let k = last + 1;
        while (k < last + 3 && has(toks[k]!, WORD.particle) && toks[k + 1] && adjacent(c, toks[k]!, toks[k + 1]!)) k++;
        const after = toks[k];
        if (after && k > last + 1 && !has(after, WORD.particle) && inRun(c, after)) {
          last = k;
          continue;
        }
        break;
      }
      if (has(n, WORD.suffix)) break;
      if (!inRun(c, n) && !surnameSlot(c, i, last, n)) break;
      if (!c.caseless && n.text.length > 1 && isAllCaps(n.text) !== isAllCaps(cur.text)) break;
      last++;
    }
    // A run ending in an initial is a run that ended early.
    while (last > i && initial(c, toks[last]!)) last--;
    if (isPerson(c, i, last)) {
      // A generational or degree suffix belongs to the name ("Kevin Veitonen II", "Rodrigues MD").
      const s = toks[last + 1];
      if (s && has(s, WORD.suffix) && isCapitalised(s.text) && gap(text, toks[last]!, s) === " ") last++;
      runs.push([i, last]);
      for (let k = i; k <= last; k++) taken.add(k);
    }
    i = last + 1;
  }
  runs.push(...andPairs(c, taken));
  const people = spreadLists(c, runs).filter(([a, b]) => !isCompany(c, a, b));
  people.push(...repeats(c, people));
  const out: Span[] = [];
  for (const [a, b] of people) {
    const s = toks[a];
    const e = toks[b];
    if (s && e) out.push(span(s.start, e.end, "PERSON", "names", 50));
  }
  return out.concat(detectPlaces(c));
}

/** Capitalised one- to three-word sequences the gazetteer knows as cities, states or countries. */
function detectPlaces(c: Ctx): Span[] {
  const out: Span[] = [];
  const { toks, text, lex } = c;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (!t || !isCapitalised(t.text) || isInitial(t)) continue;
    // Longer phrases only where some multi-word place starts with this word.
    for (let n = has(t, WORD.placeFirst) ? 3 : 1; n >= 1; n--) {
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
