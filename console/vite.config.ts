/**
 * The console's build: a static bundle in dist/console, relative asset paths (served at
 * /console by a node, or from any origin), no inline script (the node's CSP is
 * script-src 'self'), no module-preload polyfill (it would be inline).
 */
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

/**
 * src/client's default report verifier lazily imports src/attest (Node-only X.509). The
 * console always passes its own verifier, so those imports stay out of the bundle; if
 * that branch ever ran it would fail to load (fail closed), never run unverified.
 */
const leaveOutNodeVerifier: Plugin = {
  name: "cloister-leave-out-node-verifier",
  enforce: "pre",
  resolveId(id, importer) {
    if (importer && /[\\/]src[\\/]client[\\/]default-verifier\.ts$/.test(importer) && id.startsWith("../attest/")) return { id: `./unavailable-in-browser/${id.split("/").pop() ?? "x"}`, external: true };
    return null;
  },
};

/** @hpke/common falls back to Node's "crypto" only where Web Crypto is missing (never in a browser): an empty module. */
const noNodeCrypto: Plugin = {
  name: "cloister-no-node-crypto",
  enforce: "pre",
  resolveId(id, importer) {
    return id === "crypto" && importer?.includes("@hpke") ? "\0cloister-empty-crypto" : null;
  },
  load(id) {
    return id === "\0cloister-empty-crypto" ? "export {};" : null;
  },
};

export const config = defineConfig({
  root: here,
  base: "./",
  logLevel: "warn",
  plugins: [leaveOutNodeVerifier, noNodeCrypto],
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: fileURLToPath(new URL("../dist/console", import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    target: "es2022",
    sourcemap: false,
    // The timing report is noise in `npm run build`.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
});

// Vite loads the default export of its config file (as vitest does; the one place we allow one).
export default config;
