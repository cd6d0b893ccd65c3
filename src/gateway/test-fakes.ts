/**
 * Test helpers for gateway unit tests: a TEE that echoes report_data as its "quote" and
 * a backend that streams fixed words. Not for e2e tests (those use the simulator).
 */
import type { TeeProvider } from "../attest/provider.js";
import type { GenerationEvent, InferenceBackend } from "../inference/backend.js";

export const echoTee: TeeProvider = {
  name: "fake",
  simulated: true,
  getQuote: async (rd) => ({ tee: "simulated", simulated: true, quote: rd, certChain: null, eventLog: [] }),
  getGpuEvidence: async () => null,
};

/** Streams `words`, then done with the given usage; model id "fake". */
export function wordsBackend(words: readonly string[], usage = { promptTokens: 1, completionTokens: words.length }): InferenceBackend {
  async function* gen(): AsyncGenerator<GenerationEvent> {
    for (const text of words) yield { type: "delta", text };
    yield { type: "done", finishReason: "stop", usage };
  }
  return { kind: "llama", listModels: async () => [{ id: "fake", ownedBy: "t", created: 1 }], chat: () => gen(), complete: () => gen(), close: async () => {} };
}

/** An upstream-kind backend whose pass-through answers every request (its chat/complete are never reached); model id "m". */
export function passthroughOnly(passthrough: NonNullable<InferenceBackend["passthrough"]>): InferenceBackend {
  async function* none(): AsyncGenerator<GenerationEvent> {}
  return { kind: "upstream", listModels: async () => [{ id: "m", ownedBy: "test", created: 1 }], chat: () => none(), complete: () => none(), close: async () => {}, passthrough };
}
