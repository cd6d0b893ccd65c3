/**
 * Check-digit and structure validators. Pure functions over the candidate's characters;
 * separators (space, dash, dot) are ignored where the format allows them.
 */
import { isIP } from "node:net";

export function digitsOf(s: string): string {
  return s.replace(/\D/g, "");
}

/** Luhn mod-10 (ISO/IEC 7812-1 Annex B). */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * A payment card number: 12–19 digits (ISO/IEC 7812 allows 8–19; below 12 is too
 * ambiguous in free text), Luhn-valid, not all one digit, with a known issuer prefix.
 */
export function cardValid(candidate: string): boolean {
  const d = digitsOf(candidate);
  if (d.length < 12 || d.length > 19) return false;
  if (/^(\d)\1+$/.test(d)) return false;
  // Issuer identification: 2 (Mastercard 2-series), 3 (Amex/Diners/JCB), 4 (Visa),
  // 5 (Mastercard/Maestro), 6 (Discover/Maestro/UnionPay). 1, 7, 8, 9, 0 are not cards.
  if (!/^[2-6]/.test(d)) return false;
  return luhnValid(d);
}

/**
 * US Social Security Number structure (SSA rules since the 2011 randomisation): area
 * not 000, 666 or 900–999; group not 00; serial not 0000.
 */
export function ssnValid(candidate: string): boolean {
  const d = digitsOf(candidate);
  if (d.length !== 9) return false;
  const area = Number(d.slice(0, 3));
  const group = Number(d.slice(3, 5));
  const serial = Number(d.slice(5));
  if (area === 0 || area === 666 || area >= 900) return false;
  if (group === 0 || serial === 0) return false;
  // Numbers the SSA published as examples or that were famously misused.
  if (d === "078051120" || d === "219099999" || d === "123456789") return false;
  return true;
}

/** US ITIN: 9xx-[50-65|70-88|90-92|94-99]-xxxx (IRS Publication 1915). */
export function itinValid(candidate: string): boolean {
  const d = digitsOf(candidate);
  if (d.length !== 9 || d[0] !== "9") return false;
  const g = Number(d.slice(3, 5));
  return (g >= 50 && g <= 65) || (g >= 70 && g <= 88) || (g >= 90 && g <= 92) || (g >= 94 && g <= 99);
}

/** IBAN lengths per country (ISO 13616 registry, SWIFT release). */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22,
  IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20,
  LU: 20, LV: 21, MC: 27, MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15,
  PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19,
  SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

/** IBAN: country length and ISO 7064 MOD 97-10 check digits (ISO 13616-1 §6). */
export function ibanValid(candidate: string): boolean {
  const s = candidate.replace(/[\s-]/g, "").toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(s)) return false;
  const len = IBAN_LENGTHS[s.slice(0, 2)];
  if (len === undefined || len !== s.length) return false;
  const rearranged = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const v = code >= 65 ? String(code - 55) : ch;
    for (const c of v) rem = (rem * 10 + (c.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

/** ABA routing number checksum (3-7-1 weights, ABA Key to Routing Numbers). */
export function abaRoutingValid(candidate: string): boolean {
  const d = digitsOf(candidate);
  if (d.length !== 9 || /^0{9}$/.test(d)) return false;
  const w = [3, 7, 1, 3, 7, 1, 3, 7, 1];
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (d.charCodeAt(i) - 48) * (w[i] ?? 0);
  return sum % 10 === 0;
}

/**
 * An IP address as people write them: IPv4 dotted quad (each octet 0–255, no leading
 * zeros) or any IPv6 form node's parser accepts. Version strings such as 1.2.3.4 are
 * rejected by the caller's context check, not here: grammatically they are addresses.
 */
export function ipValid(candidate: string): boolean {
  if (candidate.includes(".") && !candidate.includes(":")) {
    const parts = candidate.split(".");
    if (parts.length !== 4) return false;
    if (parts.some((p) => p.length > 1 && p.startsWith("0"))) return false;
  }
  return isIP(candidate) !== 0;
}

/** RFC 5321 limits on an address found by the email grammar. */
export function emailValid(candidate: string): boolean {
  const at = candidate.lastIndexOf("@");
  if (at < 1) return false;
  const local = candidate.slice(0, at);
  const domain = candidate.slice(at + 1);
  if (local.length > 64 || domain.length > 253) return false;
  if (local.startsWith(".") || local.endsWith(".") || local.includes("..")) return false;
  const labels = domain.split(".");
  if (labels.length < 2) return false;
  const tld = labels[labels.length - 1] ?? "";
  if (!/^[A-Za-z]{2,24}$/.test(tld) && !/^xn--[a-z0-9-]+$/i.test(tld)) return false;
  return labels.every((l) => l.length > 0 && l.length <= 63 && !l.startsWith("-") && !l.endsWith("-"));
}
