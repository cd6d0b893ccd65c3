/**
 * One llama.cpp runtime per process and GPU setting. `build: "never"` because a node
 * must never compile native code or fetch binaries at runtime (FACTS.md: the prebuilt
 * binary loads in ~0.3 s); a missing binary is a deployment error, not something to fix
 * on the fly.
 */
import { getLlama, LlamaLogLevel, type Llama } from "node-llama-cpp";
import { InferenceError } from "../../errors.js";
import { InferenceCode } from "../backend.js";
import { defaultThreads, machineCpus, type CpuCounts } from "./threads.js";

const runtimes = new Map<string, Promise<Llama>>();

export function loadRuntime(gpu: false | "auto"): Promise<Llama> {
  const key = String(gpu);
  let p = runtimes.get(key);
  if (!p) {
    // Warnings and errors only: llama.cpp's info logs are noise, and logs never carry
    // prompt or response content anyway.
    p = getLlama({ gpu, build: "never", logLevel: LlamaLogLevel.error }).catch((cause: unknown) => {
      runtimes.delete(key);
      throw new InferenceError(InferenceCode.BACKEND_UNAVAILABLE, "could not load the llama.cpp runtime (no prebuilt binary for this platform?)", { cause });
    });
    runtimes.set(key, p);
  }
  return p;
}

/**
 * Threads for generation: explicit option, then CLOISTER_THREADS, then 1 under CI, then
 * the chosen default (./threads.ts) — never llama.cpp's own, which was catastrophic on 2 cores.
 */
export function resolveThreads(explicit: number | undefined, env: NodeJS.ProcessEnv = process.env, cpus: CpuCounts = machineCpus()): number {
  if (explicit !== undefined) return explicit;
  const fromEnv = Number.parseInt(env["CLOISTER_THREADS"] ?? "", 10);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  // FACTS.md: on 2 cores one thread beats two for tiny models (Node needs the other).
  if (env["CI"]) return 1;
  return defaultThreads(cpus);
}
