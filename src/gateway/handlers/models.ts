import type { Handler } from "hono";
import { InferenceError } from "../../errors.js";
import { InferenceCode, type InferenceBackend, type ModelInfo } from "../../inference/backend.js";
import type { GatewayEnv } from "../context.js";

/** OpenAI's model object, plus vLLM's `max_model_len` when the backend knows it. */
function modelJson(m: ModelInfo) {
  return { id: m.id, object: "model", created: m.created, owned_by: m.ownedBy, ...(m.maxModelLen !== undefined ? { max_model_len: m.maxModelLen } : {}) };
}

export function modelsHandler(backend: InferenceBackend): Handler<GatewayEnv> {
  return async (c) => {
    const models = await backend.listModels();
    return c.json({ object: "list", data: models.map(modelJson) });
  };
}

/** GET /v1/models/{id} (`models.retrieve`); ids may hold slashes (org/model). */
export function modelHandler(backend: InferenceBackend): Handler<GatewayEnv> {
  return async (c) => {
    const id = c.req.param("id") ?? "";
    const m = (await backend.listModels()).find((x) => x.id === id);
    if (!m) throw new InferenceError(InferenceCode.MODEL_NOT_FOUND, `model "${id}" is not served here`);
    return c.json(modelJson(m));
  };
}
