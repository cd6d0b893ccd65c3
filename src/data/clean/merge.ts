/**
 * Unites the layers' spans: overlapping or touching spans become one span (recall first:
 * the union is removed), typed by the highest-priority layer that contributed.
 */
import type { Span } from "./types.js";

export function unite(spans: readonly Span[]): Span[] {
  const sorted = [...spans].filter((s) => s.end > s.start).sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start < last.end) {
      const winner = s.priority > last.priority ? s : last;
      out[out.length - 1] = {
        start: last.start,
        end: Math.max(last.end, s.end),
        type: winner.type,
        layer: winner.layer,
        priority: winner.priority,
      };
    } else {
      out.push(s);
    }
  }
  return out;
}
