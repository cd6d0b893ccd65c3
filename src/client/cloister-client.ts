/**
 * A small typed client of our own, shaped like openai-node (`client.chat.completions.create`,
 * async iterables for streams), on top of createVerifiedFetch: every answer it returns
 * has been attested, opened and signature-checked.
 */
import { ClientError } from "../errors.js";
import { apiURL, type PinnedNode } from "./attestation.js";
import { ClientCode } from "./codes.js";
import { clientErrorOf } from "./failure.js";
import { sseData } from "./sse.js";
import { createVerifiedFetch, type VerifiedFetch, type VerifiedFetchOptions } from "./verified-fetch.js";
import { DISCOVERY_BASE_URL } from "./discovering-fetch.js";

export interface CloisterClientOptions extends VerifiedFetchOptions {
  /** Sent as `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
}

export interface ChatMessageParam {
  readonly role: "system" | "user" | "assistant";
  readonly content: string;
}

export interface ChatCompletionParams {
  readonly model: string;
  readonly messages: readonly ChatMessageParam[];
  readonly max_tokens?: number;
  readonly temperature?: number;
  readonly top_p?: number;
  readonly stop?: string | readonly string[];
  readonly seed?: number;
  readonly response_format?: Readonly<Record<string, unknown>>;
}

export interface ChatCompletion {
  readonly id: string;
  readonly object: "chat.completion";
  readonly created: number;
  readonly model: string;
  readonly choices: readonly { readonly index: number; readonly message: { readonly role: "assistant"; readonly content: string }; readonly finish_reason: string | null }[];
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number; readonly total_tokens: number };
}

export interface ChatCompletionChunk {
  readonly id: string;
  readonly object: "chat.completion.chunk";
  readonly created: number;
  readonly model: string;
  readonly choices: readonly { readonly index: number; readonly delta: { readonly role?: string; readonly content?: string }; readonly finish_reason: string | null }[];
}

export interface CloisterClient {
  readonly chat: {
    readonly completions: {
      create(params: ChatCompletionParams & { readonly stream: true }): Promise<AsyncIterable<ChatCompletionChunk>>;
      create(params: ChatCompletionParams & { readonly stream?: false }): Promise<ChatCompletion>;
    };
  };
  /** Attests (or returns the current pin): what the answers are verified against. */
  attestation(force?: boolean): Promise<PinnedNode>;
  /** The verifying fetch underneath, for the official SDK or other routes. */
  readonly fetch: VerifiedFetch;
}

export function createCloisterClient(opts: CloisterClientOptions): CloisterClient {
  const vf = createVerifiedFetch(opts);
  const post = async (path: string, body: unknown): Promise<Response> => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (opts.apiKey) headers["authorization"] = `Bearer ${opts.apiKey}`;
    // In discovery mode (no baseURL) requests go under DISCOVERY_BASE_URL, mapped to the chosen node.
    const res = await vf(apiURL(opts.baseURL ?? DISCOVERY_BASE_URL, path), { method: "POST", headers, body: JSON.stringify(body) });
    // A refusal the fetch answered as a synthetic 403 (./failure.ts): throw the ClientError itself.
    const refused = clientErrorOf(res);
    if (refused) throw refused;
    if (!res.ok) throw await apiError(res);
    return res;
  };

  async function create(params: ChatCompletionParams & { readonly stream: true }): Promise<AsyncIterable<ChatCompletionChunk>>;
  async function create(params: ChatCompletionParams & { readonly stream?: false }): Promise<ChatCompletion>;
  async function create(params: ChatCompletionParams & { readonly stream?: boolean }): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>> {
    const res = await post("chat/completions", params);
    if (!params.stream) return (await res.json()) as ChatCompletion;
    const body = res.body;
    if (!body) throw new ClientError(ClientCode.API_ERROR, "the stream has no body");
    return (async function* () {
      for await (const data of sseData(body)) yield JSON.parse(data) as ChatCompletionChunk;
      // Backstop: the signature / truncation check runs when the body ends (response.ts
      // flush); make sure it has run, and that its error reaches the caller's for-await.
      await drain(body);
    })();
  }

  return { chat: { completions: { create } }, attestation: (force) => vf.attest(force), fetch: vf };
}

/** Reads whatever is left of a body to its end; a no-op once sseData consumed it. */
async function drain(body: ReadableStream<Uint8Array>): Promise<void> {
  if (body.locked) return;
  const reader = body.getReader();
  try {
    while (!(await reader.read()).done) {
      // discard: only the end-of-stream check matters here
    }
  } finally {
    reader.releaseLock();
  }
}

async function apiError(res: Response): Promise<ClientError> {
  let code = "unknown";
  let message = `HTTP ${res.status}`;
  try {
    const v = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
    if (typeof v.error?.code === "string") code = v.error.code;
    if (typeof v.error?.message === "string") message = v.error.message;
  } catch {
    // not an OpenAI-shaped body
  }
  return new ClientError(ClientCode.API_ERROR, `the node answered HTTP ${res.status} (${code}): ${message}`, { details: { status: res.status, code } });
}
