/**
 * Replaces spans by typed placeholders, consistent within one document: the same value
 * (compared case- and space-insensitively, and a surname alone matching an earlier full
 * name) gets the same number, so "[PERSON_1] ... [PERSON_1]" is still one person.
 */
import type { EntityType, Span } from "./types.js";

function key(value: string): string {
  return value.toLowerCase().replace(/\s+/g, " ").trim();
}

export function replaceSpans(text: string, spans: readonly Span[]): string {
  const numbers = new Map<string, number>();
  const counters = new Map<EntityType, number>();
  const people: Array<{ words: string[]; n: number }> = [];
  let out = "";
  let pos = 0;
  for (const s of spans) {
    const value = text.slice(s.start, s.end);
    const k = `${s.type}:${key(value)}`;
    let n = numbers.get(k);
    if (n === undefined && s.type === "PERSON") {
      // "Mr. Matthews" after "John Matthews": the same person if one's words contain the other's.
      const words = key(value).split(" ");
      n = people.find((p) => words.every((w) => p.words.includes(w)) || p.words.every((w) => words.includes(w)))?.n;
    }
    if (n === undefined) {
      n = (counters.get(s.type) ?? 0) + 1;
      counters.set(s.type, n);
      if (s.type === "PERSON") people.push({ words: key(value).split(" "), n });
    }
    numbers.set(k, n);
    out += text.slice(pos, s.start) + `[${s.type}_${n}]`;
    pos = s.end;
  }
  return out + text.slice(pos);
}
