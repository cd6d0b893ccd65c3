/**
 * One interface in front of every inference runtime, so the gateway never knows whether
 * tokens come from the embedded llama.cpp or an upstream server in the same TEE.
 * Requests here are already validated (the gateway parses OpenAI bodies with zod).
 */
export type Role = "system" | "user" | "assistant";

export interface ChatMessage {
  readonly role: Role;
  readonly content: string;
}

export interface SamplingParams {
  readonly maxTokens?: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly stop?: readonly string[];
  readonly seed?: number;
  /** JSON schema from `response_format: {type: "json_schema"}`; enforced by a grammar. */
  readonly jsonSchema?: Readonly<Record<string, unknown>>;
  /** Aborted when the client goes away: generation must stop promptly. */
  readonly signal?: AbortSignal;
}

export interface ChatRequest extends SamplingParams {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
}

export interface CompletionRequest extends SamplingParams {
  readonly model: string;
  readonly prompt: string;
}

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export type FinishReason = "stop" | "length";

/** A stream of generated text, then exactly one `done`. */
export type GenerationEvent =
  | {
      readonly type: "delta";
      readonly text: string;
      /**
       * Running totals up to this delta, when the backend knows them (llama). Lets the
       * gateway meter a stream the client abandons before `done` by what was generated.
       */
      readonly usage?: Usage;
    }
  | { readonly type: "done"; readonly finishReason: FinishReason; readonly usage: Usage };

export interface ModelInfo {
  readonly id: string;
  readonly ownedBy: string;
  readonly created: number;
}

export interface InferenceBackend {
  readonly kind: "llama" | "upstream";
  /** UTF-8 bytes of prompt beyond which nothing can fit the context, when known (llama). */
  readonly maxPromptBytes?: number;
  listModels(): Promise<readonly ModelInfo[]>;
  /** Throws InferenceError MODEL_NOT_FOUND for an unknown model id. */
  chat(req: ChatRequest): AsyncIterable<GenerationEvent>;
  complete(req: CompletionRequest): AsyncIterable<GenerationEvent>;
  /** Undefined when the backend cannot embed. */
  embed?(model: string, input: readonly string[], signal?: AbortSignal): Promise<{ vectors: number[][]; usage: Usage }>;
  /**
   * Upstream backends may forward a whole OpenAI request unchanged and stream the bytes
   * back (true pass-through); the gateway still hashes and signs the bytes it sends.
   */
  passthrough?(path: string, body: Uint8Array, signal: AbortSignal): Promise<Response>;
  close(): Promise<void>;
}

/** Stable InferenceError codes. */
export const InferenceCode = {
  MODEL_NOT_FOUND: "MODEL_NOT_FOUND",
  MODEL_UNAVAILABLE: "MODEL_UNAVAILABLE",
  BACKEND_UNAVAILABLE: "BACKEND_UNAVAILABLE",
  BACKEND_BUSY: "BACKEND_BUSY",
  CONTEXT_OVERFLOW: "CONTEXT_OVERFLOW",
  INVALID_SCHEMA: "INVALID_SCHEMA",
  /** A request part larger than anything the model could use (stop sequences): 400. */
  INPUT_TOO_LARGE: "INPUT_TOO_LARGE",
  GENERATION_FAILED: "GENERATION_FAILED",
  CANCELLED: "CANCELLED",
} as const;
