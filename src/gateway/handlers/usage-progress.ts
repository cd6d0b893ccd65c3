/**
 * Metering for streams that end before their `done` event (client gone, time limit,
 * error). The end-of-request hooks close the usage row with no counts, because only
 * `done` carries usage; backends that know their running totals (llama) attach them to
 * each delta, the handler records the latest here by request id, and the meter
 * (src/gateway/meter.ts, `usageSoFar`) fills a count-less end from it. Counts only.
 *
 * A crash (SIGKILL, power) runs no end hook at all, so the totals are also written to
 * the in_flight row as the stream goes (`persist`): at the first delta, then at most once
 * per `intervalMs` (default 1 s). What a crash can lose from metering is therefore
 * bounded: the tokens generated in the last second before it (plus the store's
 * group-commit window, 10 ms for SQLite: src/store/group-commit.ts).
 */
import type { GenerationEvent, Usage } from "../../inference/backend.js";

export interface UsageProgress {
  /** Starts tracking a request; records for untracked (or already finished) ids are dropped. */
  begin(requestId: string): void;
  record(requestId: string, usage: Usage): void;
  /** The last totals seen for this request, forgotten once taken. */
  take(requestId: string): Usage | undefined;
}

export interface UsageProgressOptions {
  /** Writes running totals to the request's row (Store.progressUsage); must not throw. */
  readonly persist?: (requestId: string, usage: Usage) => void;
  /** Most time between two writes of one request's totals; default 1000 ms. */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

export const PROGRESS_INTERVAL_MS = 1000;

export function createUsageProgress(options: UsageProgressOptions = {}): UsageProgress {
  const intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS;
  const now = options.now ?? Date.now;
  // Only ids between begin and take are held, so a delta that lands after the row was
  // closed (the generator racing a cancel) cannot leave an entry behind.
  const latest = new Map<string, { usage: Usage | null; writtenAt: number | null }>();
  return {
    begin: (id) => void latest.set(id, { usage: null, writtenAt: null }),
    record(id, u) {
      const e = latest.get(id);
      if (!e) return;
      e.usage = u;
      if (!options.persist) return;
      const t = now();
      if (e.writtenAt !== null && t - e.writtenAt < intervalMs) return;
      e.writtenAt = t;
      options.persist(id, u);
    },
    take(id) {
      const u = latest.get(id)?.usage;
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
