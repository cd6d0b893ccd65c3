/**
 * One interface in front of every inference runtime, so the gateway never knows whether
 * tokens come from the embedded llama.cpp or an upstream server in the same TEE.
 * Requests here are already validated (the gateway parses OpenAI bodies with zod).
 */
export type Role = "system" | "user" | "assistant" | "tool";

/** A function call the model made (OpenAI `tool_calls[]`); `arguments` is JSON text. */
export interface ToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export interface ChatMessage {
  readonly role: Role;
  /** Empty for an assistant turn that only called tools (`content: null` on the wire). */
  readonly content: string;
  /** Assistant turns: the calls it made. */
  readonly toolCalls?: readonly ToolCall[];
  /** Tool turns: which call this is the result of. */
  readonly toolCallId?: string;
}

/** A function the model may call (OpenAI `tools[]` of type "function"). */
export interface ToolSpec {
  readonly name: string;
  readonly description?: string;
  /** JSON schema of the arguments object. */
  readonly parameters?: Readonly<Record<string, unknown>>;
}

/** OpenAI `tool_choice`: may call, must not call, must call one, must call this one. */
export type ToolChoice = "auto" | "none" | "required" | { readonly name: string };

/** One sampled token with its log probability and, when asked, the most likely alternatives. */
export interface TokenLogprob {
  readonly token: string;
  readonly logprob: number;
  readonly bytes: readonly number[];
  readonly top: readonly { readonly token: string; readonly logprob: number; readonly bytes: readonly number[] }[];
}

export interface SamplingParams {
  readonly maxTokens?: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly stop?: readonly string[];
  readonly seed?: number;
  /** JSON schema from `response_format: {type: "json_schema"}`; enforced by a grammar. */
  readonly jsonSchema?: Readonly<Record<string, unknown>>;
  /** OpenAI frequency_penalty / presence_penalty (-2..2), over the tokens generated so far. */
  readonly frequencyPenalty?: number;
  readonly presencePenalty?: number;
  /** OpenAI logit_bias: token id -> bias (-100..100) added to its logit. */
  readonly logitBias?: Readonly<Record<number, number>>;
  /** Return each sampled token's log probability with this many alternatives (0..20). */
  readonly topLogprobs?: number;
  /** Aborted when the client goes away: generation must stop promptly. */
  readonly signal?: AbortSignal;
}

export interface ChatRequest extends SamplingParams {
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly tools?: readonly ToolSpec[];
  /** Default "auto" when tools are given. */
  readonly toolChoice?: ToolChoice;
  /** False: at most one call per turn. Default: as many as the model's template allows. */
  readonly parallelToolCalls?: boolean;
}

export interface CompletionRequest extends SamplingParams {
  readonly model: string;
  readonly prompt: string;
}

export interface Usage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export type FinishReason = "stop" | "length" | "tool_calls";

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
      /** Present when `topLogprobs` was asked for: the tokens this text came from. */
      readonly logprobs?: readonly TokenLogprob[];
    }
  /**
   * Part of a tool call: the first event of call `index` carries its id and name, later
   * ones only more of the JSON arguments text (streamed as it is generated).
   */
  | { readonly type: "tool_call"; readonly index: number; readonly id?: string; readonly name?: string; readonly argumentsDelta: string; readonly usage?: Usage }
  | { readonly type: "done"; readonly finishReason: FinishReason; readonly usage: Usage };

export interface ModelInfo {
  readonly id: string;
  readonly ownedBy: string;
  readonly created: number;
  /** Context length in tokens (vLLM's `max_model_len`), when known. */
  readonly maxModelLen?: number;
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
  /** A request parameter this backend cannot honour; `details.param` names it. */
  UNSUPPORTED_PARAM: "UNSUPPORTED_PARAM",
} as const;
