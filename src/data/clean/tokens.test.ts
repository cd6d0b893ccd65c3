import { describe, expect, it } from "vitest";
import { TOKEN_RE, tokenize } from "./tokens.js";

/** The tokens TOKEN_RE's global scan gives (what the hand-written scanner must reproduce). */
function byRegex(text: string): Array<{ text: string; start: number; end: number }> {
  const out = [];
  for (const m of text.matchAll(new RegExp(TOKEN_RE.source, TOKEN_RE.flags))) {
    const w = m[0].length >= 2 && /['’][sS]$/.test(m[0]) ? m[0].slice(0, -2) : m[0];
    out.push({ text: w, start: m.index, end: m.index + w.length });
  }
  return out;
}
const plain = (text: string) => tokenize(text).map(({ text: t, start, end }) => ({ text: t, start, end }));

describe("tokenize", () => {
  it("gives the same tokens as the token expression, across scripts, marks, astral letters and punctuation", () => {
    const samples = [
      "O'Brien's café — naïve 𝐀𝐁 𝑥y 你好 世界 ab-'cd -x- 12ab34 e\u0301clair ’s 's a' -'-' Ünïcödé Ⅻ ǅemal ＡＢＣ १२३ ٣٤",
      "Call Mrs. Baker at (415) 555-2671; jane.doe@example.org, Koskikatu 25",
      "Иван Петров, Αθήνα, עברית, العربية, हिन्दी, 한국어",
    ];
    for (const s of samples) expect(plain(s)).toEqual(byRegex(s));
  });
  it("agrees with the expression on random strings of letters, digits, apostrophes, hyphens and other characters", () => {
    const alphabet = ["a", "Z", "é", "\u0301", "𝐀", "你", "'", "’", "-", "s", "S", "1", "9", " ", ".", "\n", "_", "\uD835"];
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let k = 0; k < 2000; k++) {
      let s = "";
      for (let n = Math.floor(next() * 20); n > 0; n--) s += alphabet[Math.floor(next() * alphabet.length)];
      expect(plain(s)).toEqual(byRegex(s));
    }
  });
  it("keeps the possessive 's out of the word", () => {
    expect(plain("Matej's address")[0]).toEqual({ text: "Matej", start: 0, end: 5 });
  });
});
