import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Test helper location of ../shared (genuine vectors, the tiny model). CI and developer
 * machines have it beside the checkout; a user's fresh clone does not.
 */
export function sharedDir(): string | null {
  const fromEnv = process.env["CLOISTER_SHARED"];
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here, i = 0; i < 6; i++, dir = dirname(dir)) {
    const candidate = resolve(dir, "..", "shared");
    if (existsSync(resolve(candidate, "vectors"))) return candidate;
  }
  return null;
}

export function sharedPath(...parts: string[]): string | null {
  const dir = sharedDir();
  if (!dir) return null;
  const p = resolve(dir, ...parts);
  return existsSync(p) ? p : null;
}
