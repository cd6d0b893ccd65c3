/**
 * The release log's last accepted checkpoint, kept in a file (Node only): the client's
 * memory across runs, so a log that shows this user a different history tomorrow than
 * the one it showed today is caught (LOG_FORKED / LOG_ROLLED_BACK). One file per log
 * origin under <data-dir>/release-logs/, written 0600 through a temporary file and a
 * rename. A file that is there but unreadable is an error, never "nothing seen yet".
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClientError } from "../errors.js";
import { ClientCode } from "../client/codes.js";
import { formatCheckpoint, parseCheckpointText, type Checkpoint } from "../transparency/checkpoint.js";
import type { CheckpointState } from "../transparency/log-reader.js";

export function checkpointFileFor(dataDir: string, origin: string): string {
  return join(dataDir, "release-logs", `${origin.replace(/[^A-Za-z0-9._-]/g, "_")}.checkpoint`);
}

export function createFileCheckpointState(path: string): CheckpointState {
  return {
    load: () => {
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw new ClientError(ClientCode.INVALID_OPTIONS, `the release-log state ${path} cannot be read`, { cause: e });
      }
      try {
        return parseCheckpointText(text);
      } catch (cause) {
        throw new ClientError(ClientCode.INVALID_OPTIONS, `the release-log state ${path} is not a checkpoint`, { cause });
      }
    },
    save: (cp: Checkpoint) => {
      mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, formatCheckpoint(cp), { mode: 0o600 });
      renameSync(tmp, path);
    },
  };
}
