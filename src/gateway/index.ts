/** The node's HTTP gateway: public surface. */
export { createGateway, COMPLETION_ROUTES, type GatewayDeps, type GatewayLimits, type E2EKeys } from "./app.js";
export { startServer, type RunningServer, type ServeOptions } from "./server.js";
export { GatewayCode, errorResponse, errorBody, toGatewayError, type OpenAIErrorBody } from "./errors.js";
export { createMetrics, type Metrics } from "./metrics.js";
export { bodyBytes, setBodyBytes, type GatewayEnv, type GatewayVariables, type ResponseOutcome } from "./context.js";
export { SIGNATURE_HEADER, SIGNING_ALGO_HEADER, type Signers } from "./middleware/signing.js";
export { buildReport, type AttestationDeps } from "./handlers/attestation.js";
export { e2eMiddleware, type E2EMiddlewareOptions } from "./e2e.js";
export { createHttpFetch } from "./http-fetch.js";
