/**
 * Usage metering: one row per request, written when generation starts (in_flight) and
 * completed when it ends, so a node killed mid-request leaves a row the next start marks
 * `interrupted` (src/store/sqlite.ts). Counts only: never content.
 */
import type { Usage } from "../inference/backend.js";
import type { Logger } from "../log/logger.js";
import type { Store, UsageFinish } from "../store/store.js";
import type { Metrics } from "./metrics.js";

export interface Meter {
  /** Opens the usage row once the model is known. */
  begin(model: string): Promise<void>;
  /** Closes it; later calls are ignored, so every exit path may call it. */
  end(usage: Usage | null, status: UsageFinish["status"]): Promise<void>;
}

export function createMeter(deps: { store: Store; metrics: Metrics; logger: Logger }, req: { requestId: string; keyId: string | null; route: string }): Meter {
  let model: string | null = null;
  let ended = false;
  return {
    async begin(m) {
      if (model !== null) return;
      model = m;
      await deps.store.startUsage({ requestId: req.requestId, keyId: req.keyId, model: m, route: req.route, startedAt: Date.now() });
    },
    async end(usage, status) {
      if (ended || model === null) return;
      ended = true;
      const promptTokens = usage?.promptTokens ?? 0;
      const completionTokens = usage?.completionTokens ?? 0;
      deps.metrics.tokens(model, promptTokens, completionTokens);
      try {
        await deps.store.finishUsage(req.requestId, { promptTokens, completionTokens, status, finishedAt: Date.now() });
      } catch (err) {
        deps.logger.error("usage write failed", { request_id: req.requestId, code: err instanceof Error ? err.name : "unknown" });
      }
    },
  };
}
