/**
 * The pipeline's HTTP routes, mounted on the node's gateway (createGateway's `data`):
 *   POST /v1/data/contributions   sealed end to end like a completion, signed like one;
 *                                 answers {receipt, claim, removed, records} (docs/protocol.md)
 *   GET  /v1/data/pipeline        the pipeline description and its measurement
 *   GET  /v1/data/datasets/:name/manifest   accepted contributions by id and hash
 */
import type { Context } from "hono";
import { DataError, GatewayError, isCloisterError } from "../../errors.js";
import { bodyBytes } from "../../gateway/context.js";
import { GatewayCode } from "../../gateway/errors.js";
import { parseContribution, processContribution, type PipelineDeps } from "./contribution.js";
import type { PipelineDescription } from "./measurement.js";

export const CONTRIBUTIONS_ROUTE = "/v1/data/contributions";

export interface DataRoutes {
  readonly contribute: (c: Context) => Promise<Response>;
  readonly pipeline: (c: Context) => Response;
  readonly manifest: (c: Context) => Response;
}

export function dataRoutes(deps: PipelineDeps & { readonly description: PipelineDescription }): DataRoutes {
  return {
    async contribute(c) {
      try {
        const req = parseContribution(await bodyBytes(c));
        const r = await processContribution(req, deps);
        return c.json(r);
      } catch (err) {
        if (isCloisterError(err) && err instanceof DataError) throw new GatewayError(400, GatewayCode.INVALID_PARAMS, err.message, { cause: err });
        throw err;
      }
    },
    pipeline: (c) => c.json({ measurement: deps.measurement, description: deps.description }),
    manifest(c) {
      try {
        return c.json({ dataset: c.req.param("name"), contributions: deps.store.manifest(c.req.param("name") ?? "") });
      } catch (err) {
        if (err instanceof DataError) throw new GatewayError(400, GatewayCode.INVALID_PARAMS, err.message);
        throw err;
      }
    },
  };
}
