/**
 * What the cleaner finds. The mission types (what a contributor is promised is removed)
 * come first; the others are removed too but are not part of the promise's figures.
 */
export const MISSION_TYPES = [
  "PERSON",
  "PHONE",
  "ADDRESS",
  "SSN",
  "EMAIL",
  "CARD",
  "BANK_ACCOUNT",
  "ID",
  "DATE_OF_BIRTH",
] as const;
export const OTHER_TYPES = ["LOCATION", "IP", "DATE", "URL"] as const;
export const ENTITY_TYPES = [...MISSION_TYPES, ...OTHER_TYPES] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

/** A found span: [start, end) in UTF-16 code units of the original text. */
export interface Span {
  readonly start: number;
  readonly end: number;
  readonly type: EntityType;
  /** Which layer found it (validators, context, names, address, dates, model). */
  readonly layer: string;
  /** Higher wins when two overlapping spans disagree on the type. */
  readonly priority: number;
}

export type Detector = (text: string) => Span[];

export function span(start: number, end: number, type: EntityType, layer: string, priority: number): Span {
  return { start, end, type, layer, priority };
}
