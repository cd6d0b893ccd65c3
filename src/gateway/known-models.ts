/**
 * Feeds the backend's model ids to the metrics, so the caller-chosen `model` of a request
 * labels a series only when the backend actually serves it (bounded cardinality,
 * metrics.ts). Listed at startup and re-listed, at most once per `refreshMs`, in the
 * background; a failed listing keeps the last good list (at first: none, all "other").
 */
import type { InferenceBackend } from "../inference/backend.js";
import type { Logger } from "../log/logger.js";
import type { Metrics } from "./metrics.js";

export function watchKnownModels(backend: InferenceBackend, metrics: Metrics, logger: Logger, refreshMs = 60_000): () => void {
  let last = 0;
  let running = false;
  const refresh = (): void => {
    if (running || (last !== 0 && Date.now() - last < refreshMs)) return;
    running = true;
    last = Date.now();
    backend
      .listModels()
      .then((ms) => metrics.setKnownModels(ms.map((m) => m.id)))
      .catch(() => logger.warn("could not list the backend's models for metrics labels", {}))
      .finally(() => (running = false));
  };
  refresh();
  return refresh;
}
