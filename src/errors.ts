/**
 * One error base for the whole project (viem's BaseError pattern): every failure that
 * crosses a module boundary is a CloisterError with a stable `code` that callers,
 * the CLI's JSON output and the HTTP layer can match on. Messages are for humans and
 * may change; codes may not.
 */
export type ErrorDetails = Readonly<Record<string, unknown>>;

export class CloisterError extends Error {
  override readonly name: string = "CloisterError";
  readonly code: string;
  readonly details: ErrorDetails | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; details?: ErrorDetails }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }

  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Evidence could not be parsed, or did not verify, or did not satisfy a policy. */
export class AttestationError extends CloisterError {
  override readonly name: string = "AttestationError";
}

/** Keys, signatures and encrypted envelopes. */
export class SealError extends CloisterError {
  override readonly name: string = "SealError";
}

/** Inference backends (embedded llama.cpp, upstream servers). */
export class InferenceError extends CloisterError {
  override readonly name: string = "InferenceError";
}

/** The node's HTTP API; `status` is the HTTP status the error maps to. */
export class GatewayError extends CloisterError {
  override readonly name: string = "GatewayError";
  readonly status: number;
  readonly type: string;
  readonly param: string | null;

  constructor(
    status: number,
    code: string,
    message: string,
    options?: { cause?: unknown; details?: ErrorDetails; type?: string; param?: string | null },
  ) {
    super(code, message, options);
    this.status = status;
    this.type = options?.type ?? defaultErrorType(status);
    this.param = options?.param ?? null;
  }
}

/** The verifying client refused a node or a response. */
export class ClientError extends CloisterError {
  override readonly name: string = "ClientError";
}

/** Bad configuration or command-line usage. */
export class ConfigError extends CloisterError {
  override readonly name: string = "ConfigError";
}

/** Persistence. */
export class StoreError extends CloisterError {
  override readonly name: string = "StoreError";
}

function defaultErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

export function isCloisterError(value: unknown): value is CloisterError {
  return value instanceof CloisterError;
}

/** Wraps anything thrown into a CloisterError without losing the original as `cause`. */
export function toCloisterError(value: unknown, code = "INTERNAL"): CloisterError {
  if (value instanceof CloisterError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new CloisterError(code, message, { cause: value });
}

/** Data contributions: the cleaner, the pipeline, receipts. */
export class DataError extends CloisterError {
  override readonly name: string = "DataError";
}
