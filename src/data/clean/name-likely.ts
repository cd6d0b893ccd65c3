/**
 * A lone capitalised word no list knows, with no cue near it, is a person when its letters
 * look like a name (name-score.ts) and it stands where a name is grammatical: inside a
 * sentence (a sentence's first word is capitalised whatever it is), written like a name
 * ("Oyelaran", not "HubSpot" or "KESTREL"), not next to another capitalised word (a
 * multi-word name of a thing: "Erwetegem Country Club"), not after an article or a word
 * that makes it a thing ("the Ruoho novel", "using Zalando"), not before a number (a
 * version: "Ubuntu 22"), a company or street word. Only in cased text.
 */
import { WORD } from "./lexicon.js";
import { NAME_LIKELY_MIN_LOGIT, THING_BEFORE } from "./name-rules.js";
import { nameLogit } from "./name-score.js";
import { has, isNumber, sentenceStart, unknownProper, type Ctx } from "./name-tokens.js";
import { gap, isCapitalised } from "./tokens.js";

const NAME_SHAPE = /^\p{Lu}\p{Ll}{2,}$/u;

export function nameLikely(c: Ctx, k: number): boolean {
  const t = c.toks[k];
  if (!t || c.caseless || !NAME_SHAPE.test(t.text) || !unknownProper(c, t) || sentenceStart(c, k)) return false;
  const prev = c.toks[k - 1];
  const next = c.toks[k + 1];
  if (prev) {
    const g = gap(c.text, prev, t);
    if (g === " " && (THING_BEFORE.has(prev.lower) || isCapitalised(prev.text) || isNumber(prev))) return false;
    if (g === "-" || g === "." || g === "/" || g === "@") return false;
  }
  if (next) {
    const g = gap(c.text, t, next);
    if (/^[-./@_]/.test(g) && !/^\.(?:\s|$)/.test(g)) return false;
    if (g === " " && (isCapitalised(next.text) || isNumber(next) || has(next, WORD.org | WORD.street))) return false;
  }
  return nameLogit(t.lower) >= NAME_LIKELY_MIN_LOGIT;
}
