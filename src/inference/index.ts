/** Inference backends: embedded llama.cpp, OpenAI-compatible upstreams, model resolution. */
export {
  InferenceCode,
  type ChatMessage,
  type ChatRequest,
  type CompletionRequest,
  type FinishReason,
  type GenerationEvent,
  type InferenceBackend,
  type ModelInfo,
  type Role,
  type SamplingParams,
  type Usage,
} from "./backend.js";
export { createLlamaBackend, type LlamaBackendOptions } from "./llama/backend.js";
export { createUpstreamBackend, type HeadersTimeoutInit, type TimedFetch, type UpstreamBackendOptions } from "./upstream/backend.js";
export { DEFAULT_MODEL, resolveModel, type DownloadProgress, type Downloader, type ResolveModelOptions, type ResolvedModel } from "./model-source.js";
export { collect, type Collected } from "./collect.js";
export type { PoolOptions } from "./pool.js";
