/**
 * Metering for streams that end before their `done` event (client gone, time limit,
 * error). The end-of-request hooks close the usage row with no counts, because only
 * `done` carries usage; backends that know their running totals (llama) attach them to
 * each delta, the handler records the latest here by request id, and the meter
 * (src/gateway/meter.ts, `usageSoFar`) fills a count-less end from it. Counts only.
 */
import type { GenerationEvent, Usage } from "../../inference/backend.js";

export interface UsageProgress {
  /** Starts tracking a request; records for untracked (or already finished) ids are dropped. */
  begin(requestId: string): void;
  record(requestId: string, usage: Usage): void;
  /** The last totals seen for this request, forgotten once taken. */
  take(requestId: string): Usage | undefined;
}

export function createUsageProgress(): UsageProgress {
  // Only ids between begin and take are held, so a delta that lands after the row was
  // closed (the generator racing a cancel) cannot leave an entry behind.
  const latest = new Map<string, Usage | null>();
  return {
    begin: (id) => void latest.set(id, null),
    record: (id, u) => void (latest.has(id) && latest.set(id, u)),
    take(id) {
      const u = latest.get(id);
      latest.delete(id);
      return u ?? undefined;
    },
  };
}

/** Passes events through, recording each delta's running usage under `requestId`. */
export function trackUsage(events: AsyncIterable<GenerationEvent>, requestId: string, progress: UsageProgress): AsyncIterable<GenerationEvent> {
  return {
    [Symbol.asyncIterator]() {
      progress.begin(requestId);
      const it = events[Symbol.asyncIterator]();
      return {
        async next() {
          const r = await it.next();
          if (!r.done && r.value.type === "delta" && r.value.usage) progress.record(requestId, r.value.usage);
          return r;
        },
        // Closing the wrapper must close the backend's generator: it frees its slot in `finally`.
        return: async (value?: unknown) => (it.return ? it.return(value) : { done: true as const, value: undefined }),
      };
    },
  };
}
