import { mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { utf8 } from "../util/bytes.js";
import { TransparencyCode } from "./errors.js";
import { LogReader, memoryCheckpointState, type ReadLogFile } from "./log-reader.js";
import { StaticLogWriter } from "./log-writer.js";
import { leafHash, rootOf } from "./merkle.js";
import { noteSigner } from "./note.js";
import { encodeTileIndex, tilePath } from "./tiles.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "cloister-log-"));
  dirs.push(d);
  return d;
}
const files = (dir: string): ReadLogFile => async (p) => new Uint8Array(readFileSync(join(dir, p)));
const signer = noteSigner("log.test/releases", new Uint8Array(32).fill(9));
const entry = (i: number): Uint8Array => utf8.encode(`entry ${i}`);

describe("tlog-tiles paths", () => {
  it("writes tile indexes in groups of three digits as C2SP tlog-tiles says", () => {
    expect(encodeTileIndex(0)).toBe("000");
    expect(encodeTileIndex(1234067)).toBe("x001/x234/067");
    expect(tilePath(1, 5, 17)).toBe("tile/1/005.p/17");
    expect(tilePath("entries", 1000)).toBe("tile/entries/x001/000");
  });
});

describe("a static log read back through its tiles", () => {
  it("proves every entry's inclusion across full and partial tiles and two tile levels", async () => {
    const dir = tmp();
    const w = StaticLogWriter.open(dir, signer);
    const all = Array.from({ length: 600 }, (_, i) => entry(i));
    w.append(all.slice(0, 300));
    w.append(all.slice(300));
    const reader = new LogReader(signer, files(dir));
    const cp = await reader.checkpoint();
    expect(cp.size).toBe(600);
    expect(Buffer.from(cp.root).equals(Buffer.from(rootOf(all.map(leafHash))))).toBe(true);
    for (const i of [0, 1, 255, 256, 299, 511, 512, 599]) await reader.proveInclusion(cp, i, all[i] as Uint8Array);
    expect((await reader.entries(cp)).map((e) => utf8.decode(e))).toEqual(all.map((e) => utf8.decode(e)));
  });

  it("refuses an entry that is not the one at that index (a wrong inclusion proof)", async () => {
    const dir = tmp();
    StaticLogWriter.open(dir, signer).append([entry(0), entry(1), entry(2)]);
    const reader = new LogReader(signer, files(dir));
    const cp = await reader.checkpoint();
    await expect(reader.proveInclusion(cp, 1, entry(2))).rejects.toMatchObject({ code: TransparencyCode.PROOF_INVALID });
  });

  it("refuses tiles a server altered (the proof no longer reaches the signed root)", async () => {
    const dir = tmp();
    StaticLogWriter.open(dir, signer).append([entry(0), entry(1), entry(2), entry(3)]);
    const path = join(dir, tilePath(0, 0, 4));
    const tile = readFileSync(path);
    tile[40] = (tile[40] as number) ^ 1; // the hash of leaf 1, which leaf 0's proof uses
    writeFileSync(path, tile);
    const reader = new LogReader(signer, files(dir));
    const cp = await reader.checkpoint();
    await expect(reader.proveInclusion(cp, 0, entry(0))).rejects.toMatchObject({ code: TransparencyCode.PROOF_INVALID });
  });

  it("accepts a grown log whose new checkpoint is consistent with the one seen before", async () => {
    const dir = tmp();
    const w = StaticLogWriter.open(dir, signer);
    w.append([entry(0), entry(1), entry(2)]);
    const state = memoryCheckpointState();
    const reader = new LogReader(signer, files(dir), state);
    await reader.checkpoint();
    w.append(Array.from({ length: 300 }, (_, i) => entry(3 + i)));
    expect((await reader.checkpoint()).size).toBe(303);
  });

  it("detects a fork: a second tree signed by the same key that does not extend the first", async () => {
    const honest = tmp();
    const forked = tmp();
    const w = StaticLogWriter.open(honest, signer);
    w.append([entry(0), entry(1), entry(2)]);
    cpSync(honest, forked, { recursive: true });
    w.append([entry(3), entry(4)]);
    const f = StaticLogWriter.open(forked, signer);
    f.append([utf8.encode("a different history"), entry(4)]);
    const state = memoryCheckpointState();
    await new LogReader(signer, files(honest), state).checkpoint();
    await expect(new LogReader(signer, files(forked), state).checkpoint()).rejects.toMatchObject({ code: TransparencyCode.LOG_FORKED });
    // Same size, different root: a fork too.
    const f2 = tmp();
    StaticLogWriter.open(f2, signer).append([entry(0), entry(1), entry(2), entry(9), entry(4)]);
    await expect(new LogReader(signer, files(f2), state).checkpoint()).rejects.toMatchObject({ code: TransparencyCode.LOG_FORKED });
  });

  it("refuses a log that went back to an older checkpoint", async () => {
    const dir = tmp();
    const old = tmp();
    const w = StaticLogWriter.open(dir, signer);
    w.append([entry(0)]);
    cpSync(dir, old, { recursive: true });
    w.append([entry(1)]);
    const state = memoryCheckpointState();
    await new LogReader(signer, files(dir), state).checkpoint();
    await expect(new LogReader(signer, files(old), state).checkpoint()).rejects.toMatchObject({ code: TransparencyCode.LOG_ROLLED_BACK });
  });

  it("refuses to reopen a folder whose entries were edited behind the checkpoint", () => {
    const dir = tmp();
    StaticLogWriter.open(dir, signer).append([entry(0), entry(1)]);
    const bundle = join(dir, tilePath("entries", 0, 2));
    const b = readFileSync(bundle);
    b[b.length - 1] = 0x41;
    writeFileSync(bundle, b);
    expect(() => StaticLogWriter.open(dir, signer)).toThrow(expect.objectContaining({ code: TransparencyCode.CHECKPOINT_INVALID }));
  });
});
