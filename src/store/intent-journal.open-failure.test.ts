/**
 * A journal whose open fails part-way (its second file cannot be made: EMFILE, ENOSPC)
 * removes what it made: a lock file and an empty journal left behind would be probed and
 * "replayed" by every later start, and pile up with each failed start.
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";

let failNext: ((path: string) => boolean) | null = null;

vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    openSync: (path: string, flags: string, mode?: number) => {
      if (failNext?.(String(path))) {
        failNext = null;
        throw Object.assign(new Error("EMFILE: too many open files"), { code: "EMFILE" });
      }
      return fs.openSync(path, flags, mode);
    },
  };
});

const { openIntentJournal } = await import("./intent-journal.js");

describe("in_flight journal open", () => {
  it("a failed open removes its lock file and the journal file it had made", () => {
    const dir = mkdtempSync(join(tmpdir(), "journal-open-"));
    const db = join(dir, "cloister.db");
    failNext = (p) => p.endsWith(".b");
    expect(() => openIntentJournal(db, "n1", async () => {}, () => {})).toThrow(/EMFILE/);
    expect(readdirSync(dir)).toEqual([]);
    // And the next open works as if nothing had happened.
    const j = openIntentJournal(db, "n1", async () => {}, () => {});
    expect(readdirSync(dir).filter((n) => n.endsWith(".lock"))).toHaveLength(1);
    j.close(true);
    expect(readdirSync(dir)).toEqual([]);
  });
});
