/**
 * Layer 5: dates. A full date (day, month and year) is removed as DATE (HIPAA Safe
 * Harbor, 45 CFR 164.514(b)(2)(i)(C), removes every date element but the year); a date
 * near a birth cue ("DOB", "date of birth", "born") within the same or the previous
 * sentence is a DATE_OF_BIRTH. A bare year or weekday is kept.
 */
import { digitCount } from "./tokens.js";
import { span, type Span } from "./types.js";

export const MONTHS = String.raw`(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?`;
export const DATE_RE = new RegExp(
  [
    String.raw`\b\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?`,
    String.raw`\b\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})\b`,
    String.raw`\b\d{4}/\d{1,2}/\d{1,2}\b`,
    String.raw`\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?${MONTHS},?\s+\d{4}\b`,
    String.raw`\b${MONTHS}\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b`,
  ].join("|"),
  "gi",
);
export const BIRTH_CUE = /\b(?:dob|d\.o\.b|date of birth|birth ?date|born|birthday|b\.)\b/i;

export function detectDates(text: string): Span[] {
  const out: Span[] = [];
  if (digitCount(text) < 4) return out;
  for (const m of text.matchAll(DATE_RE)) {
    if (!plausible(m[0])) continue;
    const before = text.slice(Math.max(0, m.index - 60), m.index);
    const type = BIRTH_CUE.test(before) ? "DATE_OF_BIRTH" : "DATE";
    out.push(span(m.index, m.index + m[0].length, type, "dates", type === "DATE_OF_BIRTH" ? 75 : 45));
  }
  return out;
}

/** Numeric dates must have a month 1–12 in one of the first two fields. */
function plausible(s: string): boolean {
  const nums = s.match(/\d+/g);
  if (!nums || /[a-z]/i.test(s)) return true;
  const [a, b] = nums.map(Number);
  if (a === undefined || b === undefined) return false;
  if (s.match(/^\d{4}/)) return b >= 1 && b <= 12;
  return (a >= 1 && a <= 12) || (b >= 1 && b <= 12);
}
