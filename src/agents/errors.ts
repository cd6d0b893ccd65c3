/**
 * Agents' failures: one class, stable codes (src/errors.ts pattern). The HTTP layer maps
 * `status` to an OpenAI-shaped body; the CLI prints `code: message`.
 */
import { CloisterError, type ErrorDetails } from "../errors.js";

export const AgentCode = {
  MANIFEST_INVALID: "AGENT_MANIFEST_INVALID",
  BUNDLE_INVALID: "AGENT_BUNDLE_INVALID",
  BUNDLE_SIGNATURE_INVALID: "AGENT_BUNDLE_SIGNATURE_INVALID",
  BUILD_FAILED: "AGENT_BUILD_FAILED",
  NOT_FOUND: "AGENT_NOT_FOUND",
  VERSION_EXISTS: "AGENT_VERSION_EXISTS",
  NOT_OWNER: "AGENT_NOT_OWNER",
  YANKED: "AGENT_YANKED",
  SANDBOX_UNAVAILABLE: "AGENT_SANDBOX_UNAVAILABLE",
  GUARANTEE_UNMET: "AGENT_GUARANTEE_UNMET",
  FULL_NOT_ACCEPTED: "AGENT_FULL_OBSERVABILITY_NOT_ACCEPTED",
  INPUT_INVALID: "AGENT_INPUT_INVALID",
  RECEIPT_INVALID: "AGENT_RECEIPT_INVALID",
  RUN_FAILED: "AGENT_RUN_FAILED",
} as const;
export type AgentCode = (typeof AgentCode)[keyof typeof AgentCode];

const STATUS: Record<AgentCode, number> = {
  AGENT_MANIFEST_INVALID: 400,
  AGENT_BUNDLE_INVALID: 400,
  AGENT_BUNDLE_SIGNATURE_INVALID: 400,
  AGENT_BUILD_FAILED: 400,
  AGENT_NOT_FOUND: 404,
  AGENT_VERSION_EXISTS: 409,
  AGENT_NOT_OWNER: 403,
  AGENT_YANKED: 410,
  AGENT_SANDBOX_UNAVAILABLE: 503,
  AGENT_GUARANTEE_UNMET: 412,
  AGENT_FULL_OBSERVABILITY_NOT_ACCEPTED: 412,
  AGENT_INPUT_INVALID: 400,
  AGENT_RECEIPT_INVALID: 400,
  AGENT_RUN_FAILED: 500,
};

export class AgentError extends CloisterError {
  override readonly name: string = "AgentError";
  override readonly code: AgentCode;
  readonly status: number;

  constructor(code: AgentCode, message: string, options?: { cause?: unknown; details?: ErrorDetails }) {
    super(code, message, options);
    this.code = code;
    this.status = STATUS[code];
  }
}
