import type { Handler } from "hono";
import type { InferenceBackend } from "../../inference/backend.js";
import type { GatewayEnv } from "../context.js";

export function modelsHandler(backend: InferenceBackend): Handler<GatewayEnv> {
  return async (c) => {
    const models = await backend.listModels();
    return c.json({ object: "list", data: models.map((m) => ({ id: m.id, object: "model", created: m.created, owned_by: m.ownedBy })) });
  };
}
