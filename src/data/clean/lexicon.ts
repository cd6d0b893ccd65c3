/**
 * Word lists the names-and-places layer looks words up in, built once per process from
 * general-purpose packages (never from any evaluation set):
 * - @faker-js/faker (MIT): first and last names, cities, states, countries and street
 *   suffixes of its 77 locales (names across cultures and scripts);
 * - compromise (MIT): its lexicon's part-of-speech tags, which tell a name ("john") from
 *   a common word that is also a name ("will", "hope");
 * - an-array-of-english-words (MIT): 275k English words, to tell an unknown capitalised
 *   word (likely a surname) from an ordinary one.
 */
import { createRequire } from "node:module";
import { allLocales } from "@faker-js/faker";
import nlp from "compromise";
import { NOT_NAMES, ORG_WORDS, PARTICLES, SUFFIXES, TITLES } from "./name-rules.js";
import { tokenize } from "./tokens.js";

/** Bits of `Lexicon.wordFlags`. */
export const WORD = {
  first: 1,
  last: 2,
  known: 4,
  knownFirst: 8,
  common: 16,
  english: 32,
  place: 64,
  notName: 128,
  title: 256,
  org: 512,
  particle: 1024,
  suffix: 2048,
  street: 4096,
  /** The first word of a multi-word place (placeFirstWords). */
  placeFirst: 8192,
} as const;

export interface Lexicon {
  readonly firstNames: ReadonlySet<string>;
  readonly lastNames: ReadonlySet<string>;
  /** compromise tags these as names (FirstName, MaleName, FemaleName, LastName, Person). */
  readonly knownNames: ReadonlySet<string>;
  /** compromise tags these as given names (FirstName, MaleName, FemaleName). */
  readonly knownFirstNames: ReadonlySet<string>;
  /** compromise tags these as something other than a name or place (will, hope, may). */
  readonly commonWords: ReadonlySet<string>;
  readonly englishWords: ReadonlySet<string>;
  /** Cities, states, countries, lower-cased; multi-word entries kept whole. */
  readonly places: ReadonlySet<string>;
  readonly streetSuffixes: ReadonlySet<string>;
  /**
   * Every list above (and the names layer's fixed lists) in one map: word → WORD bits,
   * so a token is looked up once instead of once per list.
   */
  readonly wordFlags: ReadonlyMap<string, number>;
  /** The first word of every multi-word place ("new" for "new york"): longer phrases are tried only from these. */
  readonly placeFirstWords: ReadonlySet<string>;
  /** A hash of the lists' contents, part of the cleaner's measurement. */
  readonly sizes: Readonly<Record<string, number>>;
}

let cached: Lexicon | null = null;

function strings(value: unknown, into: Set<string>): void {
  if (typeof value === "string") {
    const v = value.trim().toLowerCase();
    // Faker patterns ("{{person.first_name}}", "###") are not names.
    if (v && !v.includes("{") && !v.includes("#")) into.add(v);
  } else if (Array.isArray(value)) {
    for (const v of value) strings(v, into);
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) strings(v, into);
  }
}

export const NAME_TAGS = new Set(["FirstName", "MaleName", "FemaleName", "LastName", "Person"]);
export const FIRST_NAME_TAGS = new Set(["FirstName", "MaleName", "FemaleName"]);
// Demonyms ("Czech", "Slovenian") are nationalities, not places: they stay in the text.
export const PLACE_TAGS = new Set(["City", "Country", "Place", "Region", "ProperNoun"]);

export function lexicon(): Lexicon {
  if (cached) return cached;
  const firstNames = new Set<string>();
  const lastNames = new Set<string>();
  const places = new Set<string>();
  const streetSuffixes = new Set<string>();
  for (const locale of Object.values(allLocales) as Array<Record<string, Record<string, unknown> | undefined>>) {
    const person = locale["person"];
    const location = locale["location"];
    if (person) {
      strings(person["first_name"], firstNames);
      strings(person["middle_name"], firstNames);
      strings(person["last_name"], lastNames);
    }
    if (location) {
      for (const k of ["city_name", "state", "country", "county"]) strings(location[k], places);
      strings(location["street_suffix"], streetSuffixes);
    }
  }
  const knownNames = new Set<string>();
  const knownFirstNames = new Set<string>();
  const commonWords = new Set<string>();
  const lex = (nlp.model() as { one: { lexicon: Record<string, string | string[]> } }).one.lexicon;
  for (const [word, tag] of Object.entries(lex)) {
    const tags = Array.isArray(tag) ? tag : [tag];
    if (tags.some((t) => FIRST_NAME_TAGS.has(t))) knownFirstNames.add(word);
    if (tags.some((t) => NAME_TAGS.has(t))) knownNames.add(word);
    else if (tags.some((t) => PLACE_TAGS.has(t))) places.add(word);
    else commonWords.add(word);
  }
  const englishWords = new Set<string>(createRequire(import.meta.url)("an-array-of-english-words") as string[]);
  for (const w of knownNames) firstNames.add(w);
  const placeFirstWords = new Set<string>();
  for (const p of places) {
    const toks = tokenize(p);
    if (toks.length > 1 && toks[0]) placeFirstWords.add(toks[0].lower);
  }
  const wordFlags = new Map<string, number>();
  const mark = (words: Iterable<string>, bit: number): void => {
    for (const w of words) wordFlags.set(w, (wordFlags.get(w) ?? 0) | bit);
  };
  mark(firstNames, WORD.first);
  mark(lastNames, WORD.last);
  mark(knownNames, WORD.known);
  mark(knownFirstNames, WORD.knownFirst);
  mark(commonWords, WORD.common);
  mark(englishWords, WORD.english);
  mark(places, WORD.place);
  mark(NOT_NAMES, WORD.notName);
  mark(TITLES, WORD.title);
  mark(ORG_WORDS, WORD.org);
  mark(PARTICLES, WORD.particle);
  mark(SUFFIXES, WORD.suffix);
  mark(streetSuffixes, WORD.street);
  mark(placeFirstWords, WORD.placeFirst);
  cached = {
    wordFlags,
    placeFirstWords,
    firstNames,
    lastNames,
    knownNames,
    knownFirstNames,
    commonWords,
    englishWords,
    places,
    streetSuffixes,
    sizes: {
      firstNames: firstNames.size,
      lastNames: lastNames.size,
      knownNames: knownNames.size,
      commonWords: commonWords.size,
      englishWords: englishWords.size,
      places: places.size,
      streetSuffixes: streetSuffixes.size,
    },
  };
  return cached;
}
