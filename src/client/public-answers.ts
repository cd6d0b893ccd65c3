/**
 * The public reads the verified fetch lets through unsealed (./routes.ts) carry nothing
 * the node signs, so all the client can do is check their shape: a proxy may still
 * change which models are listed, but it cannot hand the caller an arbitrary body (an
 * HTML page, a script, a prompt injection) under a 200 of ours.
 */
import { z } from "zod";
import { ClientError } from "../errors.js";
import { ClientCode } from "./codes.js";
import type { RouteKind } from "./routes.js";
import { wireNodeListSchema } from "../ledger/nodes-wire.js";

const model = z.object({ id: z.string().min(1).max(256), object: z.literal("model") }).passthrough();
const schemas: Record<RouteKind, z.ZodTypeAny> = {
  models: z.object({ object: z.literal("list"), data: z.array(model).max(10_000) }).passthrough(),
  // The report is verified by attest(); here only that it is a report at all.
  report: z.object({ version: z.string(), request_nonce: z.string().nullable().optional() }).passthrough(),
  health: z.object({ ok: z.boolean() }).strict(),
  nodes: wireNodeListSchema,
};

/** Throws PUBLIC_ANSWER_INVALID unless `text` is a JSON body of the shape `which` answers with. */
export function checkPublicAnswer(which: RouteKind, text: string): void {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ClientError(ClientCode.PUBLIC_ANSWER_INVALID, `the ${which} answer is not JSON`);
  }
  if (!schemas[which].safeParse(v).success) throw new ClientError(ClientCode.PUBLIC_ANSWER_INVALID, `the ${which} answer does not have the shape of one`);
}
