import { describe, expect, it } from "vitest";
import { loadNodeConfig } from "./node-config.js";

describe("node config: sealed models", () => {
  it("reads --kms as a list of broker URLs with a sealed --model", () => {
    const c = loadNodeConfig(["--model", "m.sealed", "--kms", "http://a:1, http://b:2", "--kms-allow-simulated"], {}, "/");
    expect(c.kms).toEqual(["http://a:1", "http://b:2"]);
    expect(c.kmsAllowSimulated).toBe(true);
    expect(loadNodeConfig([], {}, "/").kms).toBeUndefined();
  });

  it("refuses a sealed model without brokers, brokers without a sealed model, and a non-URL broker", () => {
    expect(() => loadNodeConfig(["--model", "m.sealed"], {}, "/")).toThrow(/--kms/);
    expect(() => loadNodeConfig(["--model", "m.gguf", "--kms", "http://a"], {}, "/")).toThrow(/\.sealed/);
    expect(() => loadNodeConfig(["--model", "m.sealed", "--kms", "ftp://a"], {}, "/")).toThrow(/http/);
  });
});
