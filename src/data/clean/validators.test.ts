import { describe, expect, it } from "vitest";
import { abaRoutingValid, cardValid, emailValid, ibanValid, ipValid, itinValid, luhnValid, ssnValid } from "./validators.js";

describe("validators", () => {
  it("Luhn accepts valid check digits and rejects a changed digit", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
  });
  it("cards need 12-19 digits, an issuer prefix and Luhn; an order number is not a card", () => {
    expect(cardValid("4111 1111 1111 1111")).toBe(true);
    expect(cardValid("3782-822463-10005")).toBe(true); // Amex test number
    expect(cardValid("1234567812345670")).toBe(false); // Luhn-valid, but no issuer starts with 1
    expect(cardValid("4111111111111112")).toBe(false);
    expect(cardValid("12345678")).toBe(false);
    expect(cardValid("4444444444444444")).toBe(false);
  });
  it("SSNs follow the SSA's area, group and serial rules", () => {
    expect(ssnValid("536-22-1234")).toBe(true);
    expect(ssnValid("000-12-3456")).toBe(false);
    expect(ssnValid("666-12-3456")).toBe(false);
    expect(ssnValid("912-12-3456")).toBe(false);
    expect(ssnValid("536-00-1234")).toBe(false);
    expect(ssnValid("536-22-0000")).toBe(false);
    expect(ssnValid("078-05-1120")).toBe(false); // the Woolworth wallet card
  });
  it("ITINs start with 9 and have an IRS group", () => {
    expect(itinValid("912-70-1234")).toBe(true);
    expect(itinValid("912-45-1234")).toBe(false);
  });
  it("IBANs check the country length and MOD 97-10", () => {
    expect(ibanValid("GB82 WEST 1234 5698 7654 32")).toBe(true);
    expect(ibanValid("DE89370400440532013000")).toBe(true);
    expect(ibanValid("GB82WEST12345698765433")).toBe(false);
    expect(ibanValid("GB82WEST123456987654")).toBe(false);
    expect(ibanValid("XX82WEST12345698765432")).toBe(false);
  });
  it("ABA routing numbers check the 3-7-1 weights", () => {
    expect(abaRoutingValid("011000015")).toBe(true);
    expect(abaRoutingValid("011000016")).toBe(false);
  });
  it("IP grammar: dotted quads 0-255 without leading zeros, IPv6", () => {
    expect(ipValid("192.168.1.20")).toBe(true);
    expect(ipValid("2001:db8::1")).toBe(true);
    expect(ipValid("256.1.1.1")).toBe(false);
    expect(ipValid("01.2.3.4")).toBe(false);
  });
  it("email grammar: RFC 5321 lengths and a real top-level domain", () => {
    expect(emailValid("jane.doe@example.co.uk")).toBe(true);
    expect(emailValid("jane..doe@example.com")).toBe(false);
    expect(emailValid("user@localhost")).toBe(false);
    expect(emailValid("user@example.c0m")).toBe(false);
  });
});
