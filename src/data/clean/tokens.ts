/** Word tokens with their offsets, shared by the names and address layers. */
export interface Token {
  readonly text: string;
  /** `text` lower-cased, computed once: the names layer looks every token up several times. */
  readonly lower: string;
  readonly start: number;
  readonly end: number;
}

// Letters (any script) with inner apostrophes/hyphens, or a digit run, or an initial.
export const TOKEN_RE = /[\p{L}\p{M}][\p{L}\p{M}'’-]*[\p{L}\p{M}]|[\p{L}\p{M}]|\d+/gu;

export function tokenize(text: string): Token[] {
  return scanTokens(text, (w, lower, start, end) => ({ text: w, lower, start, end }));
}

const LETTER_AT = /[\p{L}\p{M}]/uy;

/** Code units of the letter (\p{L} or \p{M}) at i: 0 if none, 2 for an astral one. ASCII without a regex. */
function letterAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c < 128) return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? 1 : 0;
  LETTER_AT.lastIndex = i;
  if (!LETTER_AT.test(text)) return 0;
  return LETTER_AT.lastIndex - i;
}

/**
 * The tokens of `text`, each made by `make` (a layer that adds fields builds its own
 * objects once). The same tokens as TOKEN_RE's global scan (a test checks it), by a
 * hand-written scan: a regex match object per token was a fifth of the names layer.
 */
export function scanTokens<T>(text: string, make: (text: string, lower: string, start: number, end: number) => T): T[] {
  const out: T[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      let j = i + 1;
      while (j < n && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
      const w = text.slice(i, j);
      out.push(make(w, w, i, j));
      i = j;
      continue;
    }
    const len = letterAt(text, i);
    if (len === 0) {
      i++;
      continue;
    }
    // Greedy over letters, apostrophes and hyphens; the token ends at the last letter.
    let j = i + len;
    let end = j;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d === 39 || d === 0x2019 || d === 45) {
        j++;
        continue;
      }
      const l = letterAt(text, j);
      if (l === 0) break;
      j += l;
      end = j;
    }
    const m = text.slice(i, end);
    // The possessive 's is not part of the word ("Matej's address").
    const w = possessive(m) ? m.slice(0, -2) : m;
    out.push(make(w, w.toLowerCase(), i, i + w.length));
    i = end;
  }
  return out;
}

function possessive(w: string): boolean {
  const n = w.length;
  if (n < 2) return false;
  const s = w.charCodeAt(n - 1);
  const q = w.charCodeAt(n - 2);
  return (s === 115 || s === 83) && (q === 39 || q === 0x2019);
}

export function isCapitalised(word: string): boolean {
  const code = word.charCodeAt(0);
  // ASCII first (most words), the general rule for every other script.
  if (code >= 65 && code <= 90) return true;
  if (code < 128) return false;
  const c = word.charAt(0);
  return c !== c.toLowerCase() && c === c.toUpperCase();
}

export function isAllCaps(word: string): boolean {
  return word.length > 1 && word === word.toUpperCase() && word !== word.toLowerCase();
}

/** The characters between two tokens. */
export function gap(text: string, a: Token, b: Token): string {
  return text.slice(a.end, b.start);
}

/** Text written all in lower case (letters but no capital): names and streets are read case-insensitively. */
export function isCaseless(text: string): boolean {
  return /\p{L}/u.test(text) && !/\p{Lu}/u.test(text);
}

// The last text counted: every layer asks for the same text's count in turn.
let countedText = "";
let counted = 0;

/** How many ASCII digits a text has (cheap gates: a layer that needs N digits skips texts with fewer). */
export function digitCount(text: string): number {
  if (text === countedText) return counted;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  countedText = text;
  counted = n;
  return n;
}
