/**
 * Is `model` one the backend serves? Asked before a usage row is opened, so the usage
 * table only ever holds known model ids: the request's `model` string is the caller's,
 * and storing it verbatim let one failed request write megabytes into the table (issue 7
 * item 10). An unknown model is a 404 `model_not_found`, and nothing is stored.
 *
 * The list is cached; a miss re-lists at most once per `refreshMs` (a model just added
 * upstream is found within that), so a stream of unknown names costs no backend calls.
 */
import { InferenceError } from "../errors.js";
import { InferenceCode, type InferenceBackend } from "../inference/backend.js";

export type ModelCheck = (model: string) => Promise<void>;

export function createModelCheck(backend: Pick<InferenceBackend, "listModels">, refreshMs = 5_000, now: () => number = Date.now): ModelCheck {
  let known: ReadonlySet<string> | null = null;
  let listedAt = 0;
  let listing: Promise<ReadonlySet<string>> | null = null;
  const list = (): Promise<ReadonlySet<string>> => {
    listing ??= backend
      .listModels()
      .then((ms) => {
        known = new Set(ms.map((m) => m.id));
        listedAt = now();
        return known;
      })
      .finally(() => (listing = null));
    return listing;
  };
  return async (model) => {
    let ids = known;
    if (ids === null || (!ids.has(model) && now() - listedAt >= refreshMs)) {
      try {
        ids = await list();
      } catch (cause) {
        // Fail closed: without a list nothing can be shown to be served here.
        if (ids === null) throw new InferenceError(InferenceCode.BACKEND_UNAVAILABLE, "could not list the models this node serves", { cause });
      }
    }
    // The name is not echoed: it is the caller's (possibly megabytes) and may be content.
    if (!ids.has(model)) throw new InferenceError(InferenceCode.MODEL_NOT_FOUND, `the requested model is not served here; available: ${[...ids].join(", ")}`);
  };
}
