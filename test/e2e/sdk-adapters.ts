/**
 * Every SDK we claim works with createVerifiedFetch, behind one small interface so the
 * attack matrix (sdk-matrix.test.ts) runs the same attacks against each: openai 4, 5, 6
 * and 7 (npm aliases openai4, openai5, openai, openai7), the Vercel AI SDK (`ai` +
 * `@ai-sdk/openai`) and LangChain JS (`@langchain/openai`, which brings its own openai 7).
 * All run with their DEFAULT retry settings: a verification failure must not be retried.
 */
import { ChatOpenAI } from "@langchain/openai";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText } from "ai";
import { OpenAI as OpenAI4 } from "openai4";
import { OpenAI as OpenAI5 } from "openai5";
import { OpenAI as OpenAI6 } from "openai";
import { OpenAI as OpenAI7 } from "openai7";

export interface SdkCall {
  readonly baseURL: string;
  readonly fetch: typeof fetch;
  readonly apiKey: string;
  readonly prompt: string;
}

export interface Sdk {
  readonly name: string;
  /** A non-streamed chat completion's text. */
  chat(o: SdkCall): Promise<string>;
  /** A streamed chat completion's text, read the way the SDK's users read it. */
  stream(o: SdkCall): Promise<string>;
  /** A call to POST /v1/responses (openai's responses.create, the AI SDK's default model, LangChain's useResponsesApi). */
  responses(o: SdkCall): Promise<string>;
  /** A POST to `path` relative to the baseURL, when the SDK lets a caller name the path. */
  post?(o: SdkCall, path: string): Promise<unknown>;
}

/** What openai 4–7 have in common, as far as these tests use it. */
interface OpenAILike {
  chat: { completions: { create(body: Record<string, unknown>): Promise<unknown> } };
  responses: { create(body: Record<string, unknown>): Promise<unknown> };
  post(path: string, opts: { body: unknown }): Promise<unknown>;
}

type Chunk = { choices?: { delta?: { content?: string | null } }[] };
type Completion = { choices: { message: { content: string | null } }[] };

function openaiSdk(name: string, ctor: unknown): Sdk {
  const make = (o: SdkCall): OpenAILike => new (ctor as new (opts: object) => OpenAILike)({ baseURL: o.baseURL, apiKey: o.apiKey, fetch: o.fetch });
  const messages = (o: SdkCall) => [{ role: "user", content: o.prompt }];
  return {
    name,
    chat: async (o) => ((await make(o).chat.completions.create({ model: "fake", messages: messages(o) })) as Completion).choices[0]?.message.content ?? "",
    stream: async (o) => {
      const s = (await make(o).chat.completions.create({ model: "fake", messages: messages(o), stream: true })) as AsyncIterable<Chunk>;
      let text = "";
      for await (const c of s) text += c.choices?.[0]?.delta?.content ?? "";
      return text;
    },
    responses: async (o) => String(((await make(o).responses.create({ model: "fake", input: o.prompt })) as { output_text?: unknown }).output_text ?? ""),
    post: (o, path) => make(o).post(path, { body: { model: "fake", messages: messages(o) } }),
  };
}

const aiSdk: Sdk = {
  name: "ai (Vercel AI SDK) + @ai-sdk/openai",
  chat: async (o) => (await generateText({ model: createOpenAI({ baseURL: o.baseURL, apiKey: o.apiKey, fetch: o.fetch }).chat("fake"), prompt: o.prompt })).text,
  stream: async (o) => {
    const r = streamText({ model: createOpenAI({ baseURL: o.baseURL, apiKey: o.apiKey, fetch: o.fetch }).chat("fake"), prompt: o.prompt, onError: () => {} });
    let text = "";
    // The AI SDK turns stream errors into error parts (it does not throw them from textStream).
    for await (const part of r.fullStream) {
      if (part.type === "error") throw part.error;
      if (part.type === "text-delta") text += part.text;
    }
    return text;
  },
  // provider(model) is the Responses API in @ai-sdk/openai 2+ (FACTS.md).
  responses: async (o) => (await generateText({ model: createOpenAI({ baseURL: o.baseURL, apiKey: o.apiKey, fetch: o.fetch })("fake"), prompt: o.prompt })).text,
};

function langchain(o: SdkCall, useResponsesApi = false): ChatOpenAI {
  return new ChatOpenAI({ model: "fake", apiKey: o.apiKey, useResponsesApi, configuration: { baseURL: o.baseURL, fetch: o.fetch } });
}

const langchainSdk: Sdk = {
  name: "@langchain/openai",
  chat: async (o) => String((await langchain(o).invoke(o.prompt)).content),
  stream: async (o) => {
    let text = "";
    for await (const c of await langchain(o).stream(o.prompt)) text += typeof c.content === "string" ? c.content : "";
    return text;
  },
  responses: async (o) => String((await langchain(o, true).invoke(o.prompt)).content),
};

export const SDKS: readonly Sdk[] = [openaiSdk("openai 4", OpenAI4), openaiSdk("openai 5", OpenAI5), openaiSdk("openai 6", OpenAI6), openaiSdk("openai 7", OpenAI7), aiSdk, langchainSdk];

/**
 * The Cloister code a caller of each SDK sees (docs/notes/client-e2e.md, "What each SDK
 * does with a failure"): openai and LangChain put the error body's `code` on the APIError
 * (`err.code`); the AI SDK keeps the parsed body (`err.data.error.code`); an error from a
 * stream's body reaches openai and LangChain callers as our ClientError itself, and AI
 * SDK callers as `APICallError("Failed to process successful response")` whose `.cause`
 * is our ClientError.
 */
export function codeSeen(err: unknown): string {
  type E = { code?: unknown; data?: { error?: { code?: unknown } }; error?: { code?: unknown }; cause?: unknown } | null;
  const e = err as E;
  const cause = e?.cause as E;
  for (const c of [e?.data?.error?.code, e?.error?.code, e?.code, cause?.code]) if (typeof c === "string" && /^[A-Z0-9_]+$/.test(c)) return c;
  return `no code: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
}
