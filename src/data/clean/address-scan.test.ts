import { describe, expect, it } from "vitest";
import { GRAMMARS, leadMatches, trailMatches } from "./detect-address.js";

// The address layer runs its two street-line expressions sticky at candidate positions
// instead of scanning every position; the matches must be exactly a global scan's.
const TEXTS = [
  "Send it to 24 Clarke Avenue, Springfield, IL 62704 by Friday.",
  "Asuntoni on Koskikatu 25 ja toimisto Hämeenkatu 3 B, Tampere",
  "ul. Biskupa Bogedaina 118\n00-123 Warszawa",
  "rue de la Hulotais 12 and 143 rue de la Paix, Paris 75002",
  "Version 1.2.3.4 of order 55512 shipped; Foo Bar Baz Qux Quux Corge Grault 7 is a long one",
  "lower case: koskikatu 25, via roma 4, 10 downing street",
  "Tabs\tAnd\tWords\t12 and  double  spaces  here 9",
];

function global(re: RegExp): RegExp {
  return new RegExp(re.source, re.flags.replace("y", "g"));
}
const key = (ms: RegExpExecArray[]): string[] => ms.map((m) => `${m.index}:${m[0]}`);

describe("address street-line scans", () => {
  for (const [name, g] of Object.entries(GRAMMARS)) {
    it(`the sticky lead and trail scans find what a global scan finds (${name})`, () => {
      for (const text of TEXTS) {
        expect(key(leadMatches(text, g.lead))).toEqual(key([...text.matchAll(global(g.lead))]));
        expect(key(trailMatches(text, g.trail))).toEqual(key([...text.matchAll(global(g.trail))]));
      }
    });
  }
  it("finds a continental street before its house number", () => {
    expect(key(trailMatches("I live at Koskikatu 25 now", GRAMMARS.cased.trail))).toEqual(["10:Koskikatu 25"]);
  });
});
