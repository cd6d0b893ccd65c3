import type { MiddlewareHandler } from "hono";
import type { GatewayEnv } from "../context.js";
import { createMeter, stoppedStatus, type MeterDeps } from "../meter.js";
import { routeLabel } from "../metrics.js";
import { GatewayError } from "../../errors.js";

/**
 * Gives the handler a Meter and closes it on any exit path the handler did not cover.
 * The response goes on only once the in_flight usage row is durable (kill safety).
 */
export function metering(deps: MeterDeps): MiddlewareHandler<GatewayEnv> {
  return async (c, next) => {
    const meter = createMeter(deps, { requestId: c.get("requestId"), keyId: c.get("keyId"), route: routeLabel(c.req.path) });
    c.set("meter", meter);
    // The client went away (or the node is stopping) before its answer: cancelled, whatever
    // error that made. A time limit is the node's own error (its reason is a GatewayError).
    const cancelled = (): boolean => {
      const signal = c.get("signal");
      return signal?.aborted === true && !(signal.reason instanceof GatewayError);
    };
    c.get("onEnd")((o) => void meter.end(null, o.aborted || cancelled() ? stoppedStatus(c.get("signal")) : o.status >= 400 ? "error" : "ok"));
    try {
      await next();
      await meter.committed();
    } catch (err) {
      await meter.end(null, cancelled() ? "cancelled" : "error");
      // A response the handler made but that must not go out (usage not recorded): release it.
      if (c.finalized) await c.res.body?.cancel().catch(() => undefined);
      throw err;
    }
  };
}
