/** Drains a generation stream into its text and final event (tests, CLI, benchmarks). */
import type { FinishReason, GenerationEvent, Usage } from "./backend.js";

export interface Collected {
  readonly text: string;
  readonly deltas: number;
  readonly finishReason: FinishReason;
  readonly usage: Usage;
}

export async function collect(events: AsyncIterable<GenerationEvent>): Promise<Collected> {
  let text = "";
  let deltas = 0;
  for await (const e of events) {
    if (e.type === "delta") {
      text += e.text;
      deltas++;
    } else if (e.type === "done") {
      return { text, deltas, finishReason: e.finishReason, usage: e.usage };
    }
  }
  throw new RangeError("generation stream ended without a done event");
}
