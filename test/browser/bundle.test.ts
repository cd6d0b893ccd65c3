/**
 * `cloister/client` in a browser (issue 4): bundle src/client/index.ts with esbuild for
 * platform "browser" (any Node built-in on the static path fails the build), then run
 * THAT bundle in a fresh node:vm realm holding only Web globals — no require, process or
 * Buffer — against a real in-process node (gateway + simulator TEE), and check a sealed,
 * signature-verified completion, plain and streamed. The only import left out of the
 * bundle is the default report verifier's lazy one (src/attest, Node-only X.509): a
 * browser injects `verifyReport`, as this test does.
 *
 * With Debian's chromium (/usr/bin/chromium) and playwright-core installed, the same
 * bundle also runs in headless Chromium; otherwise that part is skipped, loudly.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { runInContext } from "node:vm";
import * as esbuild from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANSWER, startTestNode, type TestNode } from "../e2e/client-fixtures.js";
import { evaluate, webRealm } from "./realm.js";
import { hostVerifyReport } from "./web-verifier.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const CHROMIUM = "/usr/bin/chromium";
const hasPlaywright = ((): boolean => {
  try {
    createRequire(import.meta.url).resolve("playwright-core");
    return true;
  } catch {
    return false;
  }
})();
const chromiumReady = existsSync(CHROMIUM) && hasPlaywright;
if (!chromiumReady) {
  console.warn(`browser bundle: SKIPPING headless Chromium (${existsSync(CHROMIUM) ? "" : `${CHROMIUM} missing; `}${hasPlaywright ? "" : "playwright-core not installed"}) — the node:vm Web-globals run still checks the bundle`);
}

/** Leaves out exactly the default verifier's dynamic imports of src/attest, nothing else. */
const lazyVerifierExternal: esbuild.Plugin = {
  name: "lazy-default-verifier",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/attest\// }, (args) =>
      args.kind === "dynamic-import" && /[\\/]src[\\/]client[\\/]default-verifier\.ts$/.test(args.importer) ? { path: args.path, external: true } : undefined,
    );
  },
};

async function bundle(): Promise<{ code: string; metafile: esbuild.Metafile }> {
  const r = await esbuild.build({
    entryPoints: [`${root}/src/client/index.ts`],
    bundle: true,
    platform: "browser",
    format: "esm",
    target: "es2022",
    write: false,
    metafile: true,
    logLevel: "silent",
    plugins: [lazyVerifierExternal],
  });
  return { code: r.outputFiles[0]?.text ?? "", metafile: r.metafile };
}

type ClientModule = {
  createCloisterClient(opts: Record<string, unknown>): {
    chat: { completions: { create(p: Record<string, unknown>): Promise<unknown> } };
  };
};

describe("cloister/client bundled for the browser", () => {
  let built: { code: string; metafile: esbuild.Metafile };
  let node: TestNode;
  beforeAll(async () => {
    built = await bundle();
    node = await startTestNode({ requireE2E: true });
  });
  afterAll(async () => node?.close());

  it("builds for platform browser with no Node built-in on its path", () => {
    const inputs = Object.keys(built.metafile.inputs);
    expect(inputs.some((p) => p.includes("src/client/verified-fetch.ts"))).toBe(true);
    expect(inputs.filter((p) => p.startsWith("node:") || /(^|\/)src\/attest\/(verify|intel|snp|nvidia)/.test(p))).toEqual([]);
    const output = Object.values(built.metafile.outputs)[0];
    // What the bundle still imports, all dynamically: @hpke/common's fallback to Node's
    // "crypto" when globalThis.crypto is absent (never taken where Web Crypto exists), and
    // the lazy default verifier's two modules (a browser injects verifyReport).
    expect(output?.imports.map((i) => [i.path, i.kind, i.external])).toEqual([
      ["crypto", "dynamic-import", true],
      ["../attest/verify.js", "dynamic-import", true],
      ["../attest/policy/schema.js", "dynamic-import", true],
    ]);
    expect(built.code).not.toMatch(/\brequire\(|from "node:|import\("node:/);
    // The "crypto" fallback is guarded by a Web Crypto check.
    expect(built.code).toMatch(/globalThis\.crypto !== void 0\) \{\s*return globalThis\.crypto\.subtle;/);
  });

  it("runs in a realm with only Web globals: a sealed, verified completion, plain and streamed", async () => {
    // The ESM bundle, unchanged, turned into a script that returns its exports.
    const script = (await esbuild.transform(built.code, { format: "iife", globalName: "__cloisterClient", target: "es2022" })).code;
    const ctx = webRealm();
    const mod = evaluate(ctx, script, "__cloisterClient") as ClientModule;
    expect(runInContext("[typeof require, typeof process, typeof Buffer, typeof module]", ctx)).toEqual(["undefined", "undefined", "undefined", "undefined"]);

    const client = mod.createCloisterClient({ baseURL: `${node.url}/v1`, allowSimulated: true, verifyReport: hostVerifyReport });
    const plain = (await client.chat.completions.create({ model: "fake", messages: [{ role: "user", content: "hi" }] })) as { choices: { message: { content: string } }[] };
    expect(plain.choices[0]?.message.content).toBe(ANSWER);

    const stream = (await client.chat.completions.create({ model: "fake", stream: true, messages: [{ role: "user", content: "hi" }] })) as AsyncIterable<{ choices: { delta: { content?: string } }[] }>;
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe(ANSWER);
  });

  it("refuses a node whose report the injected verifier rejects, before sending the prompt", async () => {
    const script = (await esbuild.transform(built.code, { format: "iife", globalName: "__cloisterClient", target: "es2022" })).code;
    const mod = evaluate(webRealm(), script, "__cloisterClient") as ClientModule;
    // allowSimulated false: the simulator's report must be refused with a typed code.
    const client = mod.createCloisterClient({ baseURL: `${node.url}/v1`, allowSimulated: false, verifyReport: hostVerifyReport });
    const err = await client.chat.completions.create({ model: "fake", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("ATTESTATION_FAILED");
  });

  describe.skipIf(!chromiumReady)(`in headless Chromium${chromiumReady ? "" : " (skipped: /usr/bin/chromium or playwright-core missing)"}`, () => {
    it("gets a sealed, verified completion from a page on the node's origin", async () => {
      // Imported by name at run time: playwright-core is optional and not a dependency.
      const pwName = "playwright-core";
      const pw = (await import(pwName)) as {
        chromium: { launch(o: Record<string, unknown>): Promise<{ newPage(): Promise<PwPage>; close(): Promise<void> }> };
      };
      interface PwPage {
        route(url: string, handler: (route: { fulfill(r: Record<string, unknown>): Promise<void> }) => Promise<void>): Promise<void>;
        exposeFunction(name: string, fn: (...a: never[]) => unknown): Promise<void>;
        goto(url: string): Promise<unknown>;
        evaluate(fn: string): Promise<unknown>;
      }
      // This machine has no internet: keep Chromium from phoning home at start.
      const args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
      const browser = await pw.chromium.launch({ executablePath: CHROMIUM, headless: true, args });
      try {
        const page = await browser.newPage();
        const origin = node.url;
        // Served from the node's own origin, so fetch needs no CORS.
        await page.route(`${origin}/__bundle-test`, (route) =>
          route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>cloister bundle test</title>" }),
        );
        await page.route(`${origin}/__client.js`, (route) => route.fulfill({ status: 200, contentType: "text/javascript", body: built.code }));
        await page.exposeFunction("hostVerifyReport", (report: unknown, opts: { nonce: string; allowSimulated: boolean }) => hostVerifyReport(report, opts));
        await page.goto(`${origin}/__bundle-test`);
        const content = await page.evaluate(`(async () => {
          const m = await import(${JSON.stringify(`${origin}/__client.js`)});
          const client = m.createCloisterClient({ baseURL: ${JSON.stringify(`${origin}/v1`)}, allowSimulated: true, verifyReport: (r, o) => window.hostVerifyReport(r, o) });
          const r = await client.chat.completions.create({ model: "fake", messages: [{ role: "user", content: "hi" }] });
          return r.choices[0].message.content;
        })()`);
        expect(content).toBe(ANSWER);
      } finally {
        await browser.close();
      }
    }, 60_000);
  });
});
