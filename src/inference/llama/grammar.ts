/**
 * JSON schema -> llama.cpp grammar, cached per schema text: building a grammar costs far
 * more than a token, and clients tend to reuse one schema for many requests.
 */
import type { GbnfJsonSchema, Llama, LlamaGrammar } from "node-llama-cpp";
import { InferenceError } from "../../errors.js";
import { InferenceCode } from "../backend.js";
import { checkSchemaSize } from "./input-bounds.js";
import { capRepeats, findSchemaProblem } from "./schema-check.js";

const MAX_CACHED = 32;

export function createGrammarCache(llama: Llama): (schema: Readonly<Record<string, unknown>>) => Promise<LlamaGrammar> {
  const cache = new Map<string, Promise<LlamaGrammar>>();
  return (schema) => {
    let key: string;
    try {
      key = JSON.stringify(schema);
    } catch (cause) {
      // Nested past the stack (a RangeError): the client's schema, not our failure.
      return Promise.reject(new InferenceError(InferenceCode.INVALID_SCHEMA, "response_format json_schema nests too deeply; simplify it", { cause }));
    }
    const hit = cache.get(key);
    if (hit) return hit;
    // Before conversion, which is synchronous and superlinear in the schema (./input-bounds.ts).
    try {
      checkSchemaSize(key);
    } catch (err) {
      return Promise.reject(err);
    }
    const problem = findSchemaProblem(schema);
    if (problem) return Promise.reject(new InferenceError(InferenceCode.INVALID_SCHEMA, `response_format json_schema is invalid: ${problem}`));
    // node-llama-cpp validates the schema shape itself and throws on what its GBNF
    // converter does not support; that is the client's problem, so INVALID_SCHEMA.
    const p = llama.createGrammarForJsonSchema<GbnfJsonSchema>(capRepeats(schema) as GbnfJsonSchema).catch((cause: unknown) => {
      cache.delete(key);
      const why = cause instanceof Error ? cause.message : String(cause);
      throw new InferenceError(InferenceCode.INVALID_SCHEMA, `response_format json_schema is not supported: ${why}`, { cause });
    });
    if (cache.size >= MAX_CACHED) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    cache.set(key, p);
    return p;
  };
}
