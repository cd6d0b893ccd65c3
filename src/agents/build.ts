/**
 * Publish-time build: reads `cloister.agent.json`, bundles the entry with esbuild (ESM for
 * Node, every dependency inlined, no source maps, no minification so the scanner and a
 * reviewing user read the code as written) and returns the unsigned bundle.
 */
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { AgentError, AgentCode } from "./errors.js";
import { BUNDLE_FORMAT, MAX_BUNDLE_BYTES, type AgentBundle } from "./bundle.js";
import { MANIFEST_FILE, parseManifestText } from "./manifest.js";

/** `nodePaths`: extra folders to resolve packages from (the agent's own node_modules come first). */
export async function buildBundle(dir: string, opts: { nodePaths?: readonly string[] } = {}): Promise<AgentBundle> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), "utf8");
  } catch {
    throw new AgentError(AgentCode.MANIFEST_INVALID, `no ${MANIFEST_FILE} in ${dir}`);
  }
  const manifest = parseManifestText(text);
  let code: string;
  try {
    const r = await build({
      entryPoints: [resolve(dir, manifest.entry)],
      absWorkingDir: resolve(dir),
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      minify: false,
      sourcemap: false,
      legalComments: "none",
      logLevel: "silent",
      ...(opts.nodePaths ? { nodePaths: [...opts.nodePaths] } : {}),
      // ESM output of CommonJS dependencies needs a require(); node: built-ins only.
      banner: { js: 'import { createRequire as __cloisterCreateRequire } from "node:module"; const require = __cloisterCreateRequire(import.meta.url);' },
    });
    code = r.outputFiles[0]?.text ?? "";
  } catch (e) {
    const first = (e as { errors?: { text?: string; location?: { file?: string; line?: number } }[] }).errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : "";
    throw new AgentError(AgentCode.BUILD_FAILED, `esbuild could not bundle ${manifest.entry}: ${first?.text ?? "failed"}${where}`, { cause: e });
  }
  if (Buffer.byteLength(code) > MAX_BUNDLE_BYTES) throw new AgentError(AgentCode.BUNDLE_INVALID, `the built bundle exceeds ${MAX_BUNDLE_BYTES} bytes`);
  return { format: BUNDLE_FORMAT, manifest, code };
}
