/**
 * A fresh node:vm realm that holds only Web platform globals (no require, process,
 * Buffer, module), as a page would. The globals are the host's; the one adapter is for
 * Web Crypto: Node's SubtleCrypto rejects an ArrayBuffer made in ANOTHER realm (its
 * check is `instanceof ArrayBuffer`), which a browser never sees because page and
 * crypto share a realm. So buffers crossing in are re-viewed as host Uint8Arrays over
 * the same memory (no copy, no change of bytes); everything else passes through.
 */
import { createContext, runInContext, type Context } from "node:vm";

const WEB_GLOBALS = [
  "fetch", "Request", "Response", "Headers", "FormData", "Blob", "TextEncoder", "TextDecoder",
  "ReadableStream", "WritableStream", "TransformStream", "TextEncoderStream", "TextDecoderStream",
  "URL", "URLSearchParams", "AbortController", "AbortSignal", "Event", "EventTarget", "DOMException",
  "atob", "btoa", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "queueMicrotask",
  "structuredClone", "performance", "console",
] as const;

const isForeignArrayBuffer = (v: unknown): v is ArrayBuffer =>
  typeof v === "object" && v !== null && !(v instanceof ArrayBuffer) && Object.prototype.toString.call(v) === "[object ArrayBuffer]";

function toHostBuffers(v: unknown, depth = 0): unknown {
  if (isForeignArrayBuffer(v)) return new Uint8Array(v);
  if (depth === 0 && typeof v === "object" && v !== null && !ArrayBuffer.isView(v) && Object.getPrototypeOf(v)?.constructor?.name === "Object") {
    // Algorithm parameters ({name, iv, additionalData, salt, info, …}) carry buffers one level down.
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toHostBuffers(x, 1)]));
  }
  return v;
}

function realmCrypto(): Crypto {
  const host = globalThis.crypto;
  const subtle = new Proxy(host.subtle, {
    get(target, prop) {
      const f: unknown = Reflect.get(target, prop, target);
      if (typeof f !== "function") return f;
      return (...args: unknown[]) => (f as (...a: unknown[]) => unknown).apply(target, args.map((a) => toHostBuffers(a)));
    },
  });
  const realm: Pick<Crypto, "subtle" | "getRandomValues" | "randomUUID"> = {
    subtle,
    getRandomValues: (a) => host.getRandomValues(a),
    randomUUID: () => host.randomUUID(),
  };
  return realm as Crypto;
}

export function webRealm(extra: Record<string, unknown> = {}): Context {
  const g = globalThis as unknown as Record<string, unknown>;
  const globals: Record<string, unknown> = { crypto: realmCrypto(), ...extra };
  for (const n of WEB_GLOBALS) if (g[n] !== undefined) globals[n] = g[n];
  return createContext(globals);
}

/** Evaluates an IIFE script that assigns `globalName`, and returns that value. */
export function evaluate(ctx: Context, script: string, globalName: string): unknown {
  return runInContext(`${script};globalThis[${JSON.stringify(globalName)}]`, ctx);
}
