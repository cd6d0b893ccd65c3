import { describe, expect, it } from "vitest";
import { loadNodeConfig, resolveDataDir } from "./node-config.js";

describe("node config", () => {
  it("takes flags over env over defaults", () => {
    const env = { CLOISTER_PORT: "9000", CLOISTER_HOST: "0.0.0.0", CLOISTER_TEE: "dstack", HOME: "/home/u" };
    const c = loadNodeConfig(["--port", "7000", "--no-auth"], env, "/cwd");
    expect(c.port).toBe(7000);
    expect(c.host).toBe("0.0.0.0");
    expect(c.tee).toBe("dstack");
    expect(c.auth).toBe(false);
    expect(c.dataDir).toBe("/home/u/.cloister");
    const d = loadNodeConfig([], {}, "/cwd");
    expect([d.port, d.host, d.tee, d.auth, d.requireE2ee]).toEqual([8080, "127.0.0.1", "auto", true, false]);
  });

  it("resolves the data dir from flag, then CLOISTER_DATA_DIR, relative to cwd", () => {
    expect(resolveDataDir("d", { CLOISTER_DATA_DIR: "/x" }, "/cwd")).toBe("/cwd/d");
    expect(resolveDataDir(undefined, { CLOISTER_DATA_DIR: "/x" }, "/cwd")).toBe("/x");
  });

  it("rejects unknown flags, bad numbers, bad TEE kinds and --model with --upstream as ConfigErrors", () => {
    expect(() => loadNodeConfig(["--frob"], {}, "/")).toThrow(/frob/);
    expect(() => loadNodeConfig(["--port", "x"], {}, "/")).toThrow(/--port/);
    expect(() => loadNodeConfig(["--tee", "sgx"], {}, "/")).toThrow(/--tee/);
    expect(() => loadNodeConfig(["--model", "a", "--upstream", "http://x"], {}, "/")).toThrow(/either/);
    try {
      loadNodeConfig(["--threads", "0"], {}, "/");
    } catch (e) {
      expect((e as Error).name).toBe("ConfigError");
    }
  });
});
