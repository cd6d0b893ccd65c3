import { describe, expect, it } from "vitest";
import { clean, findSpans } from "./cleaner.js";
import { Deduper } from "./dedupe.js";
import type { EntityType } from "./types.js";

function found(text: string): Array<[EntityType, string]> {
  return findSpans(text).map((s) => [s.type, text.slice(s.start, s.end)]);
}
function has(text: string, type: EntityType, value: string): boolean {
  return found(text).some(([t, v]) => t === type && v === value);
}
function none(text: string): boolean {
  return findSpans(text).length === 0;
}

describe("validator layer", () => {
  it("finds Luhn-valid cards, not an order number", () => {
    expect(has("Charge card 4111 1111 1111 1111 please", "CARD", "4111 1111 1111 1111")).toBe(true);
    expect(none("Your order 1234567812345670 has shipped")).toBe(true);
  });
  it("finds SSNs by structure, not an invalid area", () => {
    expect(has("SSN 536-22-1234 on file", "SSN", "536-22-1234")).toBe(true);
    expect(found("Ticket 666-22-1234 was closed").some(([t]) => t === "SSN")).toBe(false);
  });
  it("finds IBANs with good check digits only", () => {
    expect(has("Pay GB82 WEST 1234 5698 7654 32 today", "BANK_ACCOUNT", "GB82 WEST 1234 5698 7654 32")).toBe(true);
    expect(none("Reference GB82WEST12345698765433 issued")).toBe(true);
  });
  it("finds emails and IP addresses, not a version string", () => {
    expect(has("write to jane.doe@example.org now", "EMAIL", "jane.doe@example.org")).toBe(true);
    expect(has("login from 203.0.113.7 failed", "IP", "203.0.113.7")).toBe(true);
    expect(none("upgraded to version 1.2.3.4 today")).toBe(true);
    expect(none("release 1.2.3.4 is out")).toBe(true);
  });
});

describe("phone layer (libphonenumber)", () => {
  it("finds phones in several countries' formats", () => {
    expect(has("Call (415) 555-2671 tomorrow", "PHONE", "(415) 555-2671")).toBe(true);
    expect(has("ring +44 20 7946 0958 soon", "PHONE", "+44 20 7946 0958")).toBe(true);
    expect(has("Mobile: 06 12 34 56 78", "PHONE", "06 12 34 56 78")).toBe(true);
  });
  it("ignores dates and bare order numbers", () => {
    expect(found("Delivered 2021-03-04 to the depot").some(([t]) => t === "PHONE")).toBe(false);
    expect(none("Order 48213977 shipped")).toBe(true);
  });
});

describe("context rules", () => {
  it("takes the identifier after a cue word", () => {
    expect(has("My passport number is X1234567 thanks", "ID", "X1234567")).toBe(true);
    expect(has("MRN: 00493827", "ID", "00493827")).toBe(true);
    expect(has("my driver's license number is F162823540116", "ID", "F162823540116")).toBe(true);
    expect(has("routing number 011000015", "BANK_ACCOUNT", "011000015")).toBe(true);
    expect(has("his ssn is 536221234", "SSN", "536221234")).toBe(true);
    expect(has("DOB: 04/12/1987", "DATE_OF_BIRTH", "04/12/1987")).toBe(true);
  });
  it("does not take a number without a cue, or a cue without a number", () => {
    expect(none("I lost my passport at the airport")).toBe(true);
    expect(none("The account was closed last year")).toBe(true);
  });
});

describe("names and places", () => {
  it("finds people across cultures", () => {
    expect(has("Yesterday Matthew Abramov called", "PERSON", "Matthew Abramov")).toBe(true);
    expect(has("Please ask Wacława Adamska about it", "PERSON", "Wacława Adamska")).toBe(true);
    expect(has("my name is Siobhán Ní Bhriain", "PERSON", "Siobhán Ní Bhriain")).toBe(true);
    expect(has("correct it to Dr. Anette Lahtela?", "PERSON", "Anette Lahtela")).toBe(true);
  });
  it("does not take a company called after a person, or ordinary capitalised words", () => {
    expect(found("Johnson Controls reported earnings").some(([t]) => t === "PERSON")).toBe(false);
    expect(found("The Davis, Reynolds and Williamson Orchestra played").some(([t]) => t === "PERSON")).toBe(false);
    expect(none("Will you hope for a better May?")).toBe(true);
  });
  it("finds places the gazetteer knows", () => {
    expect(has("We moved here from Switzerland last year", "LOCATION", "Switzerland")).toBe(true);
  });
});

describe("address grammar", () => {
  it("finds street addresses in English and continental order, with units and postcodes", () => {
    expect(has("send it to 24 Clarke Avenue please", "ADDRESS", "24 Clarke Avenue")).toBe(true);
    expect(has("at 6750 Koskikatu 25 Apt. 864, Espoo, Finland 02100.", "ADDRESS", "6750 Koskikatu 25 Apt. 864, Espoo, Finland 02100")).toBe(true);
    expect(has("it is 143 rue de la Paix, Paris", "ADDRESS", "143 rue de la Paix, Paris")).toBe(true);
    expect(has("mail P.O. Box 287 today", "ADDRESS", "P.O. Box 287")).toBe(true);
    expect(has("ZIP: 90210", "ADDRESS", "90210")).toBe(true);
  });
  it("in a text in capitals only, does not run an address on over the sentence after it", () => {
    const t = "SEND IT TO 24 CLARKE AVENUE NOW, IN CASE OF AN ISSUE.";
    expect(has(t, "ADDRESS", "24 CLARKE AVENUE")).toBe(true);
    expect(found(t).some(([, v]) => v.includes("ISSUE"))).toBe(false);
  });
  it("does not take counts and titles for addresses", () => {
    expect(none("We sold 5 Musicians Of The Year awards")).toBe(true);
    expect(none("I bought 3 apples and 2 pears")).toBe(true);
  });
});

describe("dates", () => {
  it("full dates are removed; a birth cue makes a date of birth; a bare year stays", () => {
    expect(has("date of birth. It's 11/3/1995", "DATE_OF_BIRTH", "11/3/1995")).toBe(true);
    expect(has("seen on March 3, 2021 at noon", "DATE", "March 3, 2021")).toBe(true);
    expect(none("It happened in 1995")).toBe(true);
  });
});

describe("clean", () => {
  it("replaces spans with placeholders consistent within a document", () => {
    const r = clean("John Smith called. Later John Smith wrote to Mary Jones, and Mr. Smith signed.");
    expect(r.text).toBe("[PERSON_1] called. Later [PERSON_1] wrote to [PERSON_2], and Mr. [PERSON_1] signed.");
    expect(r.removed.PERSON).toBe(4);
  });
  it("reports spans in the original text", () => {
    const t = "Email jane@example.org";
    const r = clean(t);
    expect(r.spans).toEqual([{ start: 6, end: 22, type: "EMAIL" }]);
  });
  it("rejects a record that stays risky (numbers no rule recognised)", () => {
    const r = clean("codes 4829117733109981 and 9981223455671234 were issued");
    expect(r.rejected).toBe(true);
    expect(r.risk.signals).toContain("long_number");
  });
  it("passes an ordinary cleaned record", () => {
    const r = clean("My name is Siiri Korhonen and I live at 24 Clarke Avenue.");
    expect(r.rejected).toBe(false);
    expect(r.text).not.toContain("Clarke");
  });
});

describe("duplicates", () => {
  it("drops exact and near duplicates, keeps different texts", () => {
    const d = new Deduper();
    const base = "the patient reported mild headaches after the second dose and was advised to rest for two days";
    expect(d.check(base)).toBe("new");
    expect(d.check(base.toUpperCase())).toBe("exact");
    expect(d.check(base.replace("two days", "two full days"))).toBe("near");
    expect(d.check("a completely different note about billing for the march invoice and its late fee")).toBe("new");
  });
});
