/**
 * `npm run bench`: runs every bench/*.bench.ts (each exports `run(): Promise<void>` and
 * prints its own lines, always as a ratio to a baseline measured in the same process).
 * Pass names to run a subset: `npm run bench -- gateway`.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here).filter((f) => f.endsWith(".bench.ts")).sort();
for (const f of files) {
  const name = f.replace(/\.bench\.ts$/, "");
  if (only.length && !only.includes(name)) continue;
  console.log(`\n## ${name}`);
  const mod: { run?: () => Promise<void> } = await import(pathToFileURL(join(here, f)).href);
  if (typeof mod.run === "function") await mod.run();
}
