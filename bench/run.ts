/**
 * `npm run bench`: the summary (bench/summary.bench.ts: the headline ratios, a few
 * minutes). `npm run bench -- NAME...` runs those benches (each bench/NAME.bench.ts
 * exports `run(): Promise<void>` and prints its own lines, always as a ratio to a
 * baseline measured in the same process); `npm run bench -- all` runs every one, the
 * summary last.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const names = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .map((f) => f.replace(/\.bench\.ts$/, ""))
  .sort((a, b) => (a === "summary" ? 1 : b === "summary" ? -1 : a.localeCompare(b)));
const only = args.length === 0 ? ["summary"] : args.includes("all") ? names : args;
for (const name of names) {
  if (!only.includes(name)) continue;
  console.log(`\n## ${name}`);
  const mod: { run?: () => Promise<void> } = await import(pathToFileURL(join(here, `${name}.bench.ts`)).href);
  if (typeof mod.run === "function") await mod.run();
}
if (args.length === 0) console.log("\n(`npm run bench -- all` runs every bench; `npm run bench -- NAME` one of them)");
