import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { tinyModelPath } from "../../test/fixtures/tiny-gguf.js";
import { InferenceError } from "../errors.js";
import { DEFAULT_MODEL, resolveModel, type Downloader } from "./model-source.js";

describe("resolveModel", () => {
  let dataDir: string;
  let tiny: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cloister-models-"));
    tiny = await tinyModelPath();
  });

  it("uses a local path given by flag before the environment", async () => {
    const r = await resolveModel({ flag: tiny, env: "/nonexistent.gguf", dataDir });
    expect(r).toEqual({ path: tiny, spec: tiny, source: "flag" });
  });

  it("uses CLOISTER_MODEL when no flag is given", async () => {
    expect((await resolveModel({ env: tiny, dataDir })).source).toBe("env");
  });

  it("rejects a missing path with MODEL_UNAVAILABLE naming --model and CLOISTER_MODEL", async () => {
    const err: unknown = await resolveModel({ flag: join(dataDir, "nope.gguf"), dataDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceError);
    expect(err).toMatchObject({ code: "MODEL_UNAVAILABLE" });
    expect((err as InferenceError).message).toMatch(/--model PATH.*CLOISTER_MODEL/);
  });

  it("rejects a file that is not GGUF", async () => {
    const bogus = join(dataDir, "bogus.gguf");
    await writeFile(bogus, "not a model");
    await expect(resolveModel({ flag: bogus, dataDir })).rejects.toMatchObject({ code: "MODEL_UNAVAILABLE" });
  });

  it("downloads the default model into <dataDir>/models and reports progress", async () => {
    const seen: Array<{ uri: string; directory: string }> = [];
    const progress: number[] = [];
    const download: Downloader = async (uri, opts) => {
      seen.push({ uri, directory: opts.directory });
      opts.onProgress?.({ downloadedBytes: 50, totalBytes: 100 });
      return tiny;
    };
    const r = await resolveModel({ dataDir, download, onProgress: (p) => progress.push(p.downloadedBytes / p.totalBytes) });
    expect(r.source).toBe("default");
    expect(r.spec).toBe(DEFAULT_MODEL);
    expect(seen).toEqual([{ uri: DEFAULT_MODEL, directory: join(dataDir, "models") }]);
    expect(progress).toEqual([0.5]);
  });

  it("turns an unreachable download host into MODEL_UNAVAILABLE with what to pass instead", async () => {
    // Port 9 on loopback: connection refused at once, no internet involved.
    const err: unknown = await resolveModel({ dataDir, hfEndpoint: "http://127.0.0.1:9", progressBar: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferenceError);
    expect(err).toMatchObject({ code: "MODEL_UNAVAILABLE" });
    const message = (err as InferenceError).message;
    expect(message).toContain("--model PATH");
    expect(message).toContain("CLOISTER_MODEL");
    expect(message).not.toMatch(/\n\s+at /);
  });

  it("downloads an hf: URI from a (loopback) mirror once, then serves it from the cache", async () => {
    const bytes = await readFile(tiny);
    const requests: string[] = [];
    const server: Server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      if (req.method === "HEAD" || !req.url?.startsWith("/acme/tiny-GGUF/resolve/main/tiny.gguf")) return void res.end();
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length });
      res.end(bytes);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const hfEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const uri = "hf:acme/tiny-GGUF/tiny.gguf";
      const first = await resolveModel({ flag: uri, dataDir, hfEndpoint, progressBar: false });
      expect(first.path.startsWith(join(dataDir, "models"))).toBe(true);
      expect(await readFile(first.path)).toEqual(bytes);
      const fetched = requests.filter((r) => r.startsWith("GET")).length;
      expect(fetched).toBeGreaterThan(0);
      const second = await resolveModel({ flag: uri, dataDir, hfEndpoint, progressBar: false });
      expect(second.path).toBe(first.path);
      expect(requests.filter((r) => r.startsWith("GET")).length).toBe(fetched);
    } finally {
      server.close();
    }
  });
});
