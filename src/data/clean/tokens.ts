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

/** The tokens of `text`, each made by `make` (a layer that adds fields builds its own objects once). */
export function scanTokens<T>(text: string, make: (text: string, lower: string, start: number, end: number) => T): T[] {
  const out: T[] = [];
  const re = new RegExp(TOKEN_RE.source, TOKEN_RE.flags);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    // The possessive 's is not part of the word ("Matej's address").
    const w = possessive(m[0]) ? m[0].slice(0, -2) : m[0];
    out.push(make(w, w.toLowerCase(), m.index, m.index + w.length));
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

/** How many ASCII digits a text has (cheap gates: a layer that needs N digits skips texts with fewer). */
export function digitCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}
