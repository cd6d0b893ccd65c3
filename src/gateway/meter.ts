/**
 * Usage metering: one row per request, written when generation starts (in_flight) and
 * completed when it ends, so a node killed mid-request leaves a row the next start marks
 * `interrupted` (src/store/sqlite.ts). Counts only: never content.
 *
 * `begin` only queues the in_flight row; the metering middleware waits for `committed()`
 * before it hands the response on, so no response byte leaves before the row is durable,
 * while the commit itself (shared by every request that started in the same event-loop
 * turn, src/store/group-commit.ts) overlaps with the upstream call.
 */
import type { Usage } from "../inference/backend.js";
import type { Logger } from "../log/logger.js";
import type { Store, UsageFinish } from "../store/store.js";
import { GatewayError } from "../errors.js";
import type { Metrics } from "./metrics.js";
import { PROGRESS_INTERVAL_MS } from "./handlers/usage-progress.js";

/**
 * How a request stopped early is metered: `error` when the node's own time limit cut it
 * (the scope aborts with a 408 GatewayError: the node failed to finish), `cancelled` when
 * the client left or the node is shutting down. The same for a whole answer and a stream,
 * generated here or passed through.
 */
export function stoppedStatus(signal: AbortSignal | undefined): "error" | "cancelled" {
  const r: unknown = signal?.aborted ? signal.reason : undefined;
  return r instanceof GatewayError && r.status === 408 ? "error" : "cancelled";
}

export interface Meter {
  /** Opens the usage row once the model is known (queued: see committed()). */
  begin(model: string): Promise<void>;
  /** Resolves once the row begin() opened is durable (at once when begin was not called); rejects if that write failed. */
  committed(): Promise<void>;
  /**
   * Running totals while the response streams (upstream pass-through; the llama path
   * records through handlers/usage-progress.ts): written to the in_flight row at the
   * first call, then at most once per second, so a crash loses at most a second of usage.
   */
  progress(usage: Usage): void;
  /** Closes it; later calls are ignored, so every exit path may call it. */
  end(usage: Usage | null, status: UsageFinish["status"]): Promise<void>;
}

export interface MeterDeps {
  readonly store: Store;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /**
   * Running totals for a request whose stream ended before `done` (client gone, time
   * limit): a count-less end() records these instead of zeros, in the store and metrics.
   */
  readonly usageSoFar?: (requestId: string) => Usage | undefined;
  /** Throws (404 model_not_found) for a model the backend does not serve: no row is opened for it. */
  readonly checkModel?: (model: string) => Promise<void>;
}

export function createMeter(deps: MeterDeps, req: { requestId: string; keyId: string | null; route: string }): Meter {
  let model: string | null = null;
  let ended = false;
  let started: Promise<unknown> = Promise.resolve();
  let progressAt: number | null = null;
  return {
    progress(usage) {
      if (ended || model === null) return;
      const t = Date.now();
      if (progressAt !== null && t - progressAt < PROGRESS_INTERVAL_MS) return;
      progressAt = t;
      // After the in_flight row: an UPDATE that ran first would find no row.
      void started
        .then(() => deps.store.progressUsage(req.requestId, usage))
        .catch((err: unknown) => deps.logger.warn("usage progress write failed", { request_id: req.requestId, code: err instanceof Error ? err.name : "unknown" }));
    },
    async begin(m) {
      if (model !== null) return;
      // Only known ids reach the usage table (./model-check.ts), never the caller's string.
      await deps.checkModel?.(m);
      if (model !== null) return;
      model = m;
      // Kept settled-or-pending with its error as a value, so nothing goes unhandled when
      // the handler fails before metering asks; committed() turns it back into a throw.
      started = deps.store.startUsage({ requestId: req.requestId, keyId: req.keyId, model: m, route: req.route, startedAt: Date.now() }).then(
        () => null,
        (err: unknown) => ({ err }),
      );
    },
    async committed() {
      const r = await started;
      if (r !== null && typeof r === "object" && "err" in r) throw r.err;
    },
    async end(usage, status) {
      if (ended || model === null) return;
      ended = true;
      const seen = deps.usageSoFar?.(req.requestId);
      const counted = usage ?? seen;
      const promptTokens = counted?.promptTokens ?? 0;
      const completionTokens = counted?.completionTokens ?? 0;
      deps.metrics.tokens(model, promptTokens, completionTokens);
      try {
        await deps.store.finishUsage(req.requestId, { promptTokens, completionTokens, status, finishedAt: Date.now() });
      } catch (err) {
        deps.logger.error("usage write failed", { request_id: req.requestId, code: err instanceof Error ? err.name : "unknown" });
      }
    },
  };
}
