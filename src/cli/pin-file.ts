/**
 * A PinStore in a JSON file (Node only; not on the browser-safe path of cloister/client):
 * {"version": 1, "nodes": {"<baseURL>": {"pinnedAt", "measurements": {...}}}}, written
 * 0600 through a temporary file and a rename so a crash never leaves half a pin.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ClientError } from "../errors.js";
import { ClientCode } from "../client/codes.js";
import type { PinRecord, PinStore } from "../client/pins.js";

interface PinFile {
  version: 1;
  nodes: Record<string, PinRecord>;
}

async function read(path: string): Promise<PinFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return { version: 1, nodes: {} };
  }
  try {
    const v = JSON.parse(text) as PinFile;
    if (v.version !== 1 || typeof v.nodes !== "object" || v.nodes === null) throw new TypeError("shape");
    return v;
  } catch (cause) {
    // A pin file we cannot read must not silently become "nothing pinned".
    throw new ClientError(ClientCode.INVALID_OPTIONS, `the pin file ${path} is not a Cloister pin file`, { cause });
  }
}

export function createFilePinStore(path: string): PinStore {
  return {
    load: async (node) => (await read(path)).nodes[node] ?? null,
    save: async (node, record) => {
      const f = await read(path);
      f.nodes[node] = record;
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(f, null, 2)}\n`, { mode: 0o600 });
      await rename(tmp, path);
    },
  };
}
