import { describe, expect, it } from "vitest";
import { detectNames } from "./detect-names.js";

/** The PERSON values the names layer finds in a text. */
function people(text: string): string[] {
  return detectNames(text)
    .filter((s) => s.type === "PERSON")
    .map((s) => text.slice(s.start, s.end));
}

describe("names: surnames that are ordinary words", () => {
  it("takes a capitalised word after a given name, an initial or a courtesy title", () => {
    expect(people("Yesterday Rebecca Hides phoned")).toEqual(["Rebecca Hides"]);
    expect(people("a film directed by Brad L Key last year")).toEqual(["Brad L Key"]);
    expect(people("Please call Mrs. Baker tomorrow")).toEqual(["Baker"]);
  });
  it("does not take a street, company or place word after a given name", () => {
    expect(people("stop at the corner of Inna Park today")).toEqual(["Inna"]);
    expect(people("He joined Wolfram Research in May")).toEqual([]);
    expect(people("We met at the Country Club")).toEqual([]);
    expect(people("PLEASE CALL JOHN SMITH TOMORROW")).toEqual(["JOHN SMITH"]);
  });
});

describe("names: structure", () => {
  it("joins chains of particles and a generational or degree suffix", () => {
    expect(people("Ask Maika van de Noort about it")).toEqual(["Maika van de Noort"]);
    expect(people("grandfather was called Kevin Veitonen II, and")).toEqual(["Kevin Veitonen II"]);
    expect(people("Contact Ahmad bin Rashid now")).toEqual(["Ahmad bin Rashid"]);
  });
  it("reads initials in a lower-case document, not a common word", () => {
    expect(people("the codey m ross version was recorded")).toEqual(["codey m ross"]);
    expect(people("leidy t muris\nlabor relations director")).toEqual(["leidy t muris"]);
    expect(people("the true gender of bertram has been debated")).toEqual(["bertram"]);
  });
  it("takes one unknown proper noun with name-like words, not one before an English word", () => {
    expect(people("Landerico B Hidalgo\n\nLaboratory animal technician")).toEqual(["Landerico B Hidalgo"]);
    expect(people("Where: Erwetegem Country Club.")).toEqual([]);
  });
  it("does not take 'I'm' or an interjection for a name", () => {
    expect(people("I'm Naomi Ryan, from Leeds")).toEqual(["Naomi Ryan"]);
    expect(people("C'mon, sing it with me")).toEqual([]);
  });
});

describe("names: context", () => {
  it("takes an unknown proper noun a personal pronoun refers back to", () => {
    expect(people("Shovda is very reliable. You can always depend on him.")).toEqual(["Shovda"]);
    expect(people("Järvilehto began writing as a teenager, publishing her first poems.")).toEqual(["Järvilehto"]);
    expect(people("SHOVDA IS VERY RELIABLE. YOU CAN DEPEND ON HIM.")).toEqual(["SHOVDA"]);
  });
  it("not when the pronoun is another's, a company's 'it', or the word takes an article", () => {
    expect(people("Estately songwriter Michele Østrem uses her own words")).toEqual(["Michele Østrem"]);
    expect(people("Transunion is a charity. It invites songwriters.")).toEqual([]);
    expect(people("Unlike the Ruoho novel, he said, it is short")).toEqual([]);
  });
  it("takes a line-initial unknown proper noun spoken to, not a greeting word", () => {
    expect(people("Warrane, can I please speak to your boss?")).toEqual(["Warrane"]);
    expect(people("Warrane, the town, is small.")).toEqual([]);
  });
  it("takes names after reporting verbs and 'starring'", () => {
    expect(people("that is the way, says Hauta-aho.")).toEqual(["Hauta-aho"]);
    expect(people("I'm so jealous! said Erle to me")).toEqual(["Erle"]);
  });
  it("takes a name after a role word on its line, or before 'who' or an age; not the company under a job title", () => {
    expect(people("I asked my neighbour Ondrasz about it")).toEqual(["Ondrasz"]);
    expect(people("We hired Quarnby, who starts on Monday")).toEqual(["Quarnby"]);
    expect(people("Brelowe (34) was there")).toEqual(["Brelowe"]);
    expect(people("Attn: Quarnby")).toEqual(["Quarnby"]);
    expect(people("Assistant property manager\nHopstop\nPSC 6477")).toEqual([]);
    expect(people("Talk to Quarnby today")).toEqual([]);
  });
  it("takes a name in greeting position, with or without a comma, not an ordinary word", () => {
    expect(people("Hi, Quarnby, see attached")).toEqual(["Quarnby"]);
    expect(people("Good morning Quarnby")).toEqual(["Quarnby"]);
    expect(people("Regards,\nTomás")).toEqual(["Tomás"]);
    expect(people("Hi, Team, see attached")).toEqual([]);
  });
  it("takes a name after 'said' only where it ends the clause, not a subject of what was said", () => {
    expect(people("He said Postgres is faster than MySQL here.")).toEqual([]);
    expect(people("I'm so jealous! said Gladys to Logan")).toEqual(["Gladys", "Logan"]);
  });
  it("takes a word that is both a name and a place for the place after a preposition of place", () => {
    expect(people("She works in London now")).toEqual([]);
    expect(people("London called me yesterday")).toEqual(["London"]);
  });
  it("does not take a name before a company word such as 'Center'", () => {
    expect(people("The Wilson Center hosted a panel.")).toEqual([]);
  });
  it("takes a name after a verb of asking or messaging, not an ordinary word", () => {
    expect(people("Can you ask Tadeusz to call me back?")).toEqual(["Tadeusz"]);
    expect(people("Please call Center staff")).toEqual([]);
  });
  it("takes a lower-case name after an abbreviated title, not an ordinary word", () => {
    expect(people("Send the invoice to mr. kowalczyk at the main office.")).toEqual(["kowalczyk"]);
    expect(people("See dr. appointment notes")).toEqual([]);
  });
  it("takes a lower-case name after a self-introduction, not a nationality after 'I am'", () => {
    expect(people("Hello, my name is dagny and I live in Bergen.")).toEqual(["dagny"]);
    expect(people("I am belizian but I live in Belgium.")).toEqual([]);
  });
  it("joins Arabic name particles and articles ('bint', 'al-')", () => {
    expect(people("Fatima bint Khalid al-Mansouri arrived.")).toEqual(["Fatima bint Khalid al-Mansouri"]);
  });
  it("reads a text in capitals only like one in lower case (its capitals say nothing)", () => {
    expect(people("WHY IS KATRINE SO IMPULSIVE?")).toEqual(["KATRINE"]);
    expect(people("MY BROTHER JUST TURNED 60")).toEqual([]);
  });
  it("ends a name in capitals at an ordinary word", () => {
    expect(people("ANNA KARLSSON WILL PRESENT THE RESULTS.")).toEqual(["ANNA KARLSSON"]);
  });
  it("pairs an unknown proper noun with a listed name by 'and', not two bands", () => {
    expect(people("Is it true? Torpy and Salinas were engineers.")).toEqual(["Torpy", "Salinas"]);
    expect(people("Usamov and Bowers were engineers.")).toEqual(["Usamov", "Bowers"]);
    expect(people("The Beatles and Queen were bands")).toEqual([]);
  });
  it("finds a found person's surname wherever else it stands, not an ordinary word at a sentence start", () => {
    expect(people("directed by Joakim Westgård and starring Westgård")).toEqual(["Joakim Westgård", "Westgård"]);
    expect(people("Brad L Key wrote it. Key points follow.")).toEqual(["Brad L Key"]);
  });
  it("keeps a company named after a person a company", () => {
    expect(people("Anna Johnson left. Johnson Controls reported earnings")).toEqual(["Anna Johnson"]);
  });
});
