/**
 * The node's id in the usage table. Several nodes may share one PostgreSQL store; each
 * marks only its own in_flight rows `interrupted` when it starts again, so the id must
 * outlive restarts: it is read from `<data dir>/node-id` (made once, random, 0600), or
 * given by CLOISTER_NODE_ID. Not a secret, not an identity anyone verifies: a label.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StoreError } from "../errors.js";
import { PRIVATE_FILE_MODE, ensurePrivateDir } from "./private-files.js";

/** Rows of a store opened without a node id (tests, tools). */
export const DEFAULT_NODE_ID = "local";

const VALID = /^[A-Za-z0-9._-]{1,64}$/;

export function resolveNodeId(dataDir: string, fromEnv: string | undefined): string {
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!VALID.test(fromEnv)) throw new StoreError("STORE_OPEN_FAILED", "CLOISTER_NODE_ID must be 1-64 characters of A-Z a-z 0-9 . _ -");
    return fromEnv;
  }
  const file = join(dataDir, "node-id");
  try {
    const id = readFileSync(file, "utf8").trim();
    if (VALID.test(id)) return id;
  } catch {
    // not made yet
  }
  ensurePrivateDir(dataDir);
  const id = `node_${randomBytes(8).toString("hex")}`;
  // "wx": two processes starting at once on one data dir must not both write one.
  try {
    writeFileSync(file, `${id}\n`, { mode: PRIVATE_FILE_MODE, flag: "wx" });
    return id;
  } catch {
    const again = readFileSync(file, "utf8").trim();
    if (VALID.test(again)) return again;
    throw new StoreError("STORE_OPEN_FAILED", `${file} does not hold a valid node id; remove it to make a new one`);
  }
}
