/**
 * The default CPU thread count for generation, chosen rather than left to llama.cpp.
 *
 * Rule: one thread per physical core, but never every logical CPU — one is left for
 * Node's own thread (the event loop that tokenizes, signs, seals and streams), and at
 * least 1. llama.cpp's worker threads spin while they wait for each other, so a thread
 * that has to share a CPU with the event loop (or with another worker) stalls every
 * token: on a 2-core machine node-llama-cpp's own default generated stories260K at
 * ~1.7 tok/s, against ~1,250 tok/s with 1 thread (FACTS.md; bench/threads.bench.ts,
 * docs/notes/node-hardening.md for the figures).
 */
import { availableParallelism } from "node:os";

export interface CpuCounts {
  /** Logical CPUs this process may use (os.availableParallelism()). */
  readonly logical: number;
  /** Physical cores as llama.cpp counts them (Llama.cpuMathCores); defaults to `logical`. */
  readonly physical?: number;
}

export function defaultThreads(cpus: CpuCounts): number {
  const logical = Math.max(1, Math.floor(cpus.logical));
  const physical = Math.max(1, Math.floor(cpus.physical ?? logical));
  return Math.max(1, Math.min(physical, logical - 1));
}

/** This machine's counts; `physical` comes from the loaded runtime when known. */
export function machineCpus(physical?: number): CpuCounts {
  return { logical: availableParallelism(), ...(physical === undefined ? {} : { physical }) };
}
