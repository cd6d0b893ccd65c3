import lib from "google-libphonenumber";
import { describe, expect, it } from "vitest";
import { installPhoneRegexCache, matchesEntirely, originalMatchesEntirely } from "./phone-regex-cache.js";

// What we rely on from google-libphonenumber: its internals call
// PhoneNumberUtil.matchesEntirely through the class property (so our cached version is
// the one used), and the cached version answers exactly as the original does.
describe("google-libphonenumber matchesEntirely cache (contract)", () => {
  it("answers as the library's own function", () => {
    const cases: Array<[string | RegExp, string]> = [
      ["\\d{3}", "123"], ["\\d{3}", "1234"], ["[2-9]\\d{2}", "199"], [/\d{2,4}/, "12"], ["(?:1|2)", "12"], ["a", "A"],
    ];
    for (const [re, s] of cases) {
      expect(matchesEntirely(re, s)).toBe(originalMatchesEntirely(re, s));
      expect(matchesEntirely(re, s)).toBe(originalMatchesEntirely(re, s));
    }
  });
  it("is the function the library calls once installed, and validation is unchanged", () => {
    const util = lib.PhoneNumberUtil.getInstance();
    const before = util.isValidNumber(util.parseAndKeepRawInput("(415) 555-2671", "US"));
    installPhoneRegexCache();
    expect((lib.PhoneNumberUtil as unknown as { matchesEntirely: unknown }).matchesEntirely).toBe(matchesEntirely);
    expect(util.isValidNumber(util.parseAndKeepRawInput("(415) 555-2671", "US"))).toBe(before);
    expect(util.isValidNumber(util.parseAndKeepRawInput("030 123456", "DE"))).toBe(true);
    expect(util.isValidNumber(util.parseAndKeepRawInput("123", "US"))).toBe(false);
  });
});
