/**
 * Layer 2: context rules. An identifier-shaped token right after a word that says what
 * it is ("SSN", "DOB", "MRN", "passport", "account", "routing", "driver's licence"...).
 * The value pattern is loose (letters, digits, dashes); the context word is the evidence.
 */
import { digitCount } from "./tokens.js";
import { span, type EntityType, type Span } from "./types.js";

interface ContextRule {
  readonly type: EntityType;
  readonly words: RegExp;
}

// Up to ~40 characters of connective text may separate the cue from the value
// ("SSN is", "passport number:", "license number is").
export const GAP = String.raw`(?:\s*(?:#|no\.?|num(?:ber)?\.?|nr\.?|id|is|was|:|=|-|of|the|my|his|her|their|reads?|shows?)\s*){0,5}\s*`;
export const ID_VALUE = String.raw`((?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9 -]{3,22}[A-Za-z0-9])`;

export const RULES: readonly ContextRule[] = [
  { type: "SSN", words: /\b(?:ssn|ss#|social security(?: number| no\.?)?|social insurance number|sin|itin|tax(?:payer)? id(?:entification)?(?: number)?|tin|national insurance(?: number)?|nino)\b/i },
  { type: "ID", words: /\b(?:mrn|medical record(?: number)?|patient id|passport|driver'?s? licen[cs]e|driving licen[cs]e|licen[cs]e|dl|national id|id card|identity card|member(?:ship)? id|employee id|student id|policy(?: number)?|insurance id|health card|nhs(?: number)?|medicare(?: number)?|medicaid(?: number)?|badge(?: number)?|vehicle registration|plate|vin)\b/i },
  { type: "BANK_ACCOUNT", words: /\b(?:(?:bank |checking |savings |current )?account(?: number)?|acct\.?|a\/c|routing(?: number)?|aba|sort code|iban|bic|swift)\b/i },
  { type: "CARD", words: /\b(?:card(?: number)?|credit card|debit card|visa|mastercard|amex|cc)\b/i },
  { type: "DATE_OF_BIRTH", words: /\b(?:dob|d\.o\.b\.?|date of birth|birth ?date|born(?: on)?|birthday)\b/i },
];

export const DATE_VALUE = String.raw`((?:\d{1,4}[./-]\d{1,2}[./-]\d{1,4})|(?:\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?,?\s+\d{2,4})|(?:[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{2,4}))`;

const compiled = RULES.map((r) => ({
  type: r.type,
  re: new RegExp(String.raw`${r.words.source}${GAP}${r.type === "DATE_OF_BIRTH" ? DATE_VALUE : ID_VALUE}`, "gi"),
}));

export function detectContext(text: string): Span[] {
  const out: Span[] = [];
  // Every value the rules take carries at least four digits (a date of birth too).
  if (digitCount(text) < 4) return out;
  for (const { type, re } of compiled) {
    for (const m of text.matchAll(re)) {
      const value = m[1];
      if (value === undefined) continue;
      const trimmed = value.replace(/[ -]+$/, "");
      const start = m.index + m[0].length - value.length;
      if (type !== "DATE_OF_BIRTH") {
        const digits = trimmed.replace(/\D/g, "").length;
        // An identifier carries at least four digits; the value stops at the first word
        // that is only letters (the sentence continues).
        if (digits < 4) continue;
        const cut = cutAtWord(trimmed);
        if (cut.replace(/\D/g, "").length < 4) continue;
        out.push(span(start, start + cut.length, type, "context", 70));
      } else {
        out.push(span(start, start + trimmed.length, type, "context", 75));
      }
    }
  }
  return out;
}

function cutAtWord(value: string): string {
  const parts = value.split(" ");
  let kept = "";
  for (const p of parts) {
    if (kept && !/\d/.test(p)) break;
    kept = kept ? `${kept} ${p}` : p;
  }
  return kept.replace(/[ -]+$/, "");
}
