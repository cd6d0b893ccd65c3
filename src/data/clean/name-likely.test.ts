import { describe, expect, it } from "vitest";
import { detectNames } from "./detect-names.js";
import { lexicon } from "./lexicon.js";
import { nameLogit, nameScoreDigest } from "./name-score.js";

function people(text: string): string[] {
  return detectNames(text)
    .filter((s) => s.type === "PERSON")
    .map((s) => text.slice(s.start, s.end));
}

// Invented or rare names no shipped list has, and made-up product words: the rule under
// test is the only one that can find them.
const UNSEEN = ["oyelaran", "marcellina", "ferdinandi", "lumora"];

describe("name-likeness scorer", () => {
  it("is asked about words no list knows (the examples here are in none)", () => {
    const flags = lexicon().wordFlags;
    for (const w of UNSEEN) expect(flags.get(w) ?? 0).toBe(0);
  });
  it("scores name-like letters above ordinary words and software names", () => {
    for (const w of ["oyelaran", "marcellina", "ferdinandi"]) expect(nameLogit(w)).toBeGreaterThan(2);
    for (const w of ["kubernetes", "webpack", "figma", "controls", "tuesday", "hubspot"]) expect(nameLogit(w)).toBeLessThan(2);
  });
  it("has a stable digest of its weights", () => {
    expect(nameScoreDigest()).toMatch(/^[0-9a-f]{64}$/);
    expect(nameScoreDigest()).toBe(nameScoreDigest());
  });
});

describe("names: a lone unknown word that looks like a name", () => {
  it("is a person inside a sentence with no cue", () => {
    expect(people("Last week I had lunch with Oyelaran near the office.")).toEqual(["Oyelaran"]);
    expect(people("The form was returned by Marcellina without a signature.")).toEqual(["Marcellina"]);
    expect(people("Can you check whether Ferdinandi still owes us the deposit?")).toEqual(["Ferdinandi"]);
  });
  it("is not a person at a sentence start, where any word is capitalised", () => {
    expect(people("Oyelaran was the answer to the crossword.")).toEqual([]);
    expect(people("It rained. Marcellina grapes ripen late.")).toEqual([]);
  });
  it("is not a product, a version, a company or a word written otherwise", () => {
    expect(people("We upgraded to Lumora 3.2 on all servers.")).toEqual([]);
    expect(people("We deployed it using Lumora last night.")).toEqual([]);
    expect(people("Open the Lumora dashboard and log in.")).toEqual([]);
    expect(people("They migrated from Kubernetes to Figma plugins.")).toEqual([]);
    expect(people("We bought it from Lumora Systems in March.")).toEqual([]);
    expect(people("The quote from Johnson Controls arrived.")).toEqual([]);
    expect(people("The build uses LumoraDB and OYELARAN-X for storage.")).toEqual([]);
    expect(people("See lumora.io or ferdinandi-app for details.")).toEqual([]);
  });
  it("is not an ordinary capitalised word inside a sentence", () => {
    expect(people("Please read our Privacy Policy before Friday.")).toEqual([]);
    expect(people("The parcel goes by Express unless you pick Standard.")).toEqual([]);
  });
});
