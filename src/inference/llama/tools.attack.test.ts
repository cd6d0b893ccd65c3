import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InferenceError } from "../../errors.js";
import { sharedPath } from "../../util/shared.js";
import { InferenceCode, type ChatRequest, type InferenceBackend } from "../backend.js";
import { createLlamaBackend } from "./backend.js";
import { functionsOf } from "./tools.js";

const stories = sharedPath("models", "stories260K.gguf");

describe("tool names that are Object.prototype's own names", () => {
  it("__proto__, constructor and toString are each an own function, never the object's prototype", () => {
    const fns = functionsOf([{ name: "__proto__", description: "first" }, { name: "constructor" }, { name: "toString" }]);
    expect(Object.keys(fns)).toEqual(["__proto__", "constructor", "toString"]);
    expect(Object.getPrototypeOf(fns)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(fns, "__proto__")?.value).toMatchObject({ description: "first" });
  });
});

describe.skipIf(!stories)("tools with response_format on stories260K", () => {
  let backend: InferenceBackend;
  beforeAll(async () => {
    backend = await createLlamaBackend({ modelPath: stories ?? "", threads: 1, parallel: 1, contextSize: 2048 });
  });
  afterAll(() => backend?.close());
  const ask = (toolChoice: ChatRequest["toolChoice"]): ChatRequest => ({
    model: "stories260K",
    messages: [{ role: "user", content: "hi" }],
    maxTokens: 8,
    temperature: 0,
    tools: [{ name: "f", parameters: { type: "object", properties: { a: { type: "string" } } } }],
    ...(toolChoice ? { toolChoice } : {}),
    jsonSchema: { type: "object", properties: { z: { type: "integer" } }, required: ["z"] },
  });
  const run = async (r: ChatRequest): Promise<string> => {
    try {
      let last = "";
      for await (const e of backend.chat(r)) last = e.type;
      return last;
    } catch (e) {
      return e instanceof InferenceError ? `${e.code} ${String(e.details?.["param"])}` : String(e);
    }
  };

  it("auto (the default): refused naming response_format, not answered with the tools silently dropped", async () => {
    expect(await run(ask(undefined))).toBe(`${InferenceCode.UNSUPPORTED_PARAM} response_format`);
    expect(await run(ask("auto"))).toBe(`${InferenceCode.UNSUPPORTED_PARAM} response_format`);
  });

  it("none: served under the schema", async () => {
    expect(await run(ask("none"))).toBe("done");
  });
});
