/**
 * Sealed models, throughput: seal and open as a ratio to raw node:crypto AES-256-GCM over
 * the same bytes in the same process. Run by bench/sealed.bench.ts in a process of its own
 * (`node --import tsx bench/sealed-throughput.ts`), which loads only the sealed-file code:
 * in a process that also holds the node's module graph, the collections that the cipher's
 * fresh 1 MiB outputs trigger mark a much larger heap (major-GC pauses 8-12 ms per 64 MiB
 * instead of ~1.2 ms, measured), on V8's helper threads too, and on this 2-core machine
 * those compete with the hash worker for the second core.
 *
 * The whole seal reads the plaintext from shared memory (the hash worker reads it in place,
 * as it reads a file through its own descriptor); the whole open is the node's own
 * decryptInto, into a memfd, against raw decryption into the same memfd.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { closeSync, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { Worker } from "node:worker_threads";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bufferSource } from "../src/kms/file/io.js";
import { openChunk } from "../src/kms/file/chunk.js";
import { HEADER_MAC_LENGTH, TAG_LENGTH } from "../src/kms/file/format.js";
import { HASH_WORKER_SOURCE, WORKER_MIN_BYTES } from "../src/kms/file/hasher.js";
import { chunkBinding, fileKeys } from "../src/kms/file/keys.js";
import { readSealedHeader } from "../src/kms/file/open.js";
import { sealBytes, sealFile, sealStream } from "../src/kms/file/seal.js";
import { decryptInto } from "../src/kms/node/decrypt-into.js";
import { createMemFile } from "../src/kms/node/memfd.js";
import { percentile } from "./stats.js";

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const CHUNK = MiB;
const ROUNDS = 21;

/**
 * A full collection before every timed run, outside the timing. Without it a run pays for
 * the garbage of the run before it (each 64 MiB pass leaves 64 MiB of output buffers, and
 * freeing them, on V8's helper threads, lands in whichever run comes next): that, not our
 * code, was most of the swing between runs of this bench.
 */
const collect: () => void = (() => {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
})();

/**
 * A full collection leaves its sweeping to V8's helper threads, which then run beside the
 * timed work for tens of milliseconds (longer the larger the heap: this bench also loads
 * the broker and node modules). They take the second core, which the hash worker needs
 * and raw AES does not, so a whole seal or open was charged for them. Wait them out.
 */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

/**
 * Wall time, and this process's CPU time: user + system of all its threads, so the hash
 * worker, GC helpers and page faults count. Wall time is what a user waits for; CPU time
 * says what the work costs (and with a worker it is larger than wall time).
 */
async function timeOnce(fn: () => Promise<void> | void): Promise<{ wall: number; cpu: number }> {
  collect();
  await settle();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

const gbps = (ms: number): string => `${((SIZE / MiB / 1024) / (ms / 1000)).toFixed(2)} GiB/s`;
const median = (xs: readonly number[]): number => percentile(xs, 50);

export async function throughput(): Promise<void> {
  // In shared memory, so the hash worker can read it in place (as it reads a file through its own descriptor).
  const plain = Buffer.from(new SharedArrayBuffer(SIZE));
  randomBytes(SIZE).copy(plain);
  const key = randomBytes(32);
  const iv = randomBytes(12);
  let sink = 0;
  // The baseline: raw node:crypto AES-256-GCM over the same 64 MiB, a fresh cipher per
  // 1 MiB (rawSealN, rawOpenN: the same allocation pattern as ours, and measured faster than
  // one cipher fed 1 MiB at a time, rawSeal1/rawOpen1, which is printed for reference).
  // Taking the faster of the two per round would also take the luckier of two samples.
  const rawSeal1 = (): void => {
    const c = createCipheriv("aes-256-gcm", key, iv);
    for (let o = 0; o < SIZE; o += CHUNK) sink += c.update(plain.subarray(o, o + CHUNK)).length;
    c.final();
    c.getAuthTag();
  };
  // The output is held until the tag is out, as sealChunk does: dropping it at once measured
  // ~1.4x slower in scratch loops here (64 vs 45 ms per 64 MiB), and the baseline must not
  // be the slower way.
  const rawSealN = (): void => {
    for (let o = 0; o < SIZE; o += CHUNK) {
      const c = createCipheriv("aes-256-gcm", key, iv);
      const body = c.update(plain.subarray(o, o + CHUNK));
      c.final();
      sink += body.length + c.getAuthTag().length;
    }
  };
  const rawCt = (() => {
    const c = createCipheriv("aes-256-gcm", key, iv);
    return { ct: Buffer.concat([c.update(plain), c.final()]), tag: c.getAuthTag() };
  })();
  const rawOpen1 = (): void => {
    const d = createDecipheriv("aes-256-gcm", key, iv);
    d.setAuthTag(rawCt.tag);
    for (let o = 0; o < SIZE; o += CHUNK) sink += d.update(rawCt.ct.subarray(o, o + CHUNK)).length;
    d.final();
  };
  // Per 1 MiB: each piece and its tag as one cipher above (the same nonce: a baseline, not a construction).
  const rawPieces = Array.from({ length: SIZE / CHUNK }, (_, i) => {
    const c = createCipheriv("aes-256-gcm", key, iv);
    return { ct: c.update(plain.subarray(i * CHUNK, (i + 1) * CHUNK)), tag: (c.final(), c.getAuthTag()) };
  });
  const rawOpenN = (): void => {
    for (const p of rawPieces) {
      const d = createDecipheriv("aes-256-gcm", key, iv);
      d.setAuthTag(p.tag);
      const body = d.update(p.ct);
      d.final();
      sink += body.length;
    }
  };
  const sha = createHash("sha256").update(plain).digest("hex");
  const src = bufferSource(plain);
  const opts = { dataKey: key, modelId: "bench", chunkSize: CHUNK };
  const count = (parts: readonly Buffer[]): void => {
    for (const p of parts) sink += p.length;
  };
  // Our chunk encryption alone: the hash given, so nothing is hashed.
  const sealEncrypt = async (): Promise<void> => void (await sealStream(src, count, { ...opts, plaintextSha256: sha }));
  // A whole seal: the plaintext hashed in the worker while the chunks are encrypted.
  const sealWhole = async (): Promise<void> => void (await sealStream(src, count, opts));
  const { sealed } = await sealBytes(plain, opts);
  // Our chunk decryption alone: every chunk's nonce, AAD and tag, without the hash check.
  const { header, headerLength, encoded } = await readSealedHeader(bufferSource(sealed));
  const chunkKey = fileKeys(key, Buffer.from(header.salt, "hex")).chunkKey;
  const binding = chunkBinding(header, encoded);
  const n = SIZE / CHUNK;
  const openChunks = (): void => {
    for (let i = 0; i < n; i++) {
      const at = headerLength + HEADER_MAC_LENGTH + i * (CHUNK + TAG_LENGTH);
      const p = openChunk(chunkKey, binding, i, i === n - 1, sealed.subarray(at, at + CHUNK + TAG_LENGTH));
      if (!p) throw new Error("bench: chunk did not open");
      sink += p.length;
    }
  };
  // A whole open, as the node does it (decryptInto): header MAC, every chunk into a memfd,
  // the hash worker reading the plaintext back from the memfd. Its baseline decrypts the
  // same pieces with raw node:crypto into the same memfd.
  const work = mkdtempSync(join(tmpdir(), "cloister-sealed-tp-"));
  const sealedPath = join(work, "m.sealed");
  writeFileSync(sealedPath, sealed);
  const mem = await createMemFile("cloister-bench");
  const openWhole = async (): Promise<void> => {
    ftruncateSync(mem.fd, 0);
    await decryptInto(sealedPath, key, mem);
  };
  // The raw side reads its pieces (ciphertext ‖ tag per 1 MiB) from a file too, as ours reads the sealed file.
  const piecesPath = join(work, "raw.pieces");
  writeFileSync(piecesPath, Buffer.concat(rawPieces.flatMap((p) => [p.ct, p.tag])));
  const rawOpenMemfd = (): void => {
    ftruncateSync(mem.fd, 0);
    const fd = openSync(piecesPath, "r");
    const buf = Buffer.allocUnsafe(CHUNK + TAG_LENGTH);
    for (let i = 0; i < n; i++) {
      readSync(fd, buf, 0, CHUNK + TAG_LENGTH, i * (CHUNK + TAG_LENGTH));
      const d = createDecipheriv("aes-256-gcm", key, iv);
      d.setAuthTag(buf.subarray(CHUNK));
      const body = d.update(buf.subarray(0, CHUNK));
      d.final();
      mem.write(body, i * CHUNK);
    }
    closeSync(fd);
  };
  const hashOnly = (): void => {
    const h = createHash("sha256");
    for (let o = 0; o < SIZE; o += CHUNK) h.update(plain.subarray(o, o + CHUNK));
    h.digest();
  };

  const fns = { rawSeal1, rawSealN, sealEncrypt, sealWhole, rawOpen1, rawOpenN, openChunks, rawOpenMemfd, openWhole, sha256: hashOnly };
  type Name = keyof typeof fns;
  const names = Object.keys(fns) as Name[];
  const t = Object.fromEntries(names.map((k) => [k, [] as { wall: number; cpu: number }[]])) as Record<Name, { wall: number; cpu: number }[]>;
  for (const k of names) await timeOnce(fns[k]); // warm-up, untimed: JIT, the idle hash worker
  // Interleaved, the order rotated every round: load from other processes and the
  // machine's own drift hit the baseline and ours alike, and each ratio below is taken
  // within one round, from runs a few milliseconds apart.
  for (let r = 0; r < ROUNDS; r++) {
    for (let j = 0; j < names.length; j++) {
      const k = names[(j + r) % names.length] as Name;
      t[k].push(await timeOnce(fns[k]));
    }
  }
  const series: Record<Name | "rawSeal" | "rawOpen", { wall: number; cpu: number }[]> = { ...t, rawSeal: t.rawSealN, rawOpen: t.rawOpenN };
  type Series = keyof typeof series;
  const ratios = (base: Series, ours: Series, m: "wall" | "cpu"): number[] => series[ours].map((x, i) => (series[base][i]?.[m] ?? NaN) / x[m]);
  const fastest = (k: Series, m: "wall" | "cpu"): number => Math.min(...series[k].map((x) => x[m]));
  const spread = (xs: readonly number[]): string => `median ${median(xs).toFixed(3)} [${percentile(xs, 10).toFixed(2)}–${percentile(xs, 90).toFixed(2)}]`;
  const line = (label: string, base: Series, ours: Series, note: string): void => {
    const wall = ratios(base, ours, "wall");
    const verdict = median(wall) >= 0.9 ? "goal >= 0.9: met" : "goal >= 0.9: NOT met";
    console.log(`${label.padEnd(24)} ${gbps(median(series[ours].map((x) => x.wall)))} wall   ratio by wall ${spread(wall)}, best/best ${(fastest(base, "wall") / fastest(ours, "wall")).toFixed(3)}   by CPU ${spread(ratios(base, ours, "cpu"))}   ${verdict}${note}`);
  };
  void sink;
  // The plaintext SHA-256 is part of every whole seal and open. With x = SHA-256's speed over
  // raw AES-GCM's, the whole can reach min(1, x) of raw with a free second core (hash and
  // cipher side by side) and x / (1 + x) on one core (one after the other).
  const bound = (base: Series): string => {
    const x = median(ratios(base, "sha256", "wall"));
    return `SHA-256 alone runs at ${x.toFixed(2)}x raw: ceiling ${Math.min(1, x).toFixed(2)} with a free second core, ${(x / (1 + x)).toFixed(2)} on one`;
  };
  console.log(`${SIZE / MiB} MiB in memory, ${CHUNK / MiB} MiB chunks, ${ROUNDS} interleaved rounds; ratio = raw time / our time in the same round: median [p10–p90], and fastest/fastest`);
  const med = (k: Series): string => gbps(median(series[k].map((x) => x.wall)));
  console.log(`raw node:crypto AES-256-GCM   seal ${med("rawSeal")} (one cipher for all: ${med("rawSeal1")})  open ${med("rawOpen")} (${med("rawOpen1")}; into a memfd ${med("rawOpenMemfd")})  SHA-256 alone ${med("sha256")}   (median wall)`);
  line("seal, chunk encryption", "rawSeal", "sealEncrypt", "");
  line("seal, whole", "rawSeal", "sealWhole", `  (plaintext hashed in a worker; ${bound("rawSeal")})`);
  line("open, chunk decryption", "rawOpen", "openChunks", "");
  line("open, whole, to a memfd", "rawOpenMemfd", "openWhole", `  (decryptInto: MAC, chunks, hash check read back from the memfd in a worker; raw: decrypt into the same memfd; ${bound("rawOpenMemfd")})`);
  mem.close();
  await fileToFile(work, plain, key, iv);
  rmSync(work, { recursive: true, force: true });
  const w0 = performance.now();
  const w = new Worker(HASH_WORKER_SOURCE, { eval: true });
  await new Promise((r) => w.once("online", r));
  const startMs = performance.now() - w0;
  await w.terminate();
  console.log(`(starting a hash worker takes ${startMs.toFixed(0)} ms; one idle worker is kept, and inputs under ${WORKER_MIN_BYTES / MiB} MiB hash inline)`);
}

/**
 * `cloister model seal` on a file, as a user waits for it: sealFile (read, seal, write, fsync,
 * then the sealed file's SHA-256 for its registration, which needs the header written last
 * and so a second pass) against raw node:crypto reading, encrypting and writing the same
 * bytes with no fsync and no hash. Wall times; not a goal line.
 */
async function fileToFile(work: string, plain: Buffer, key: Buffer, iv: Buffer): Promise<void> {
  const input = join(work, "in.bin");
  writeFileSync(input, plain);
  let k = 0;
  const raw = (): void => {
    const i = openSync(input, "r");
    const out = join(work, `raw-${k++}`);
    const o = openSync(out, "wx");
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let at = 0, j = 0; at < SIZE; at += CHUNK, j++) {
      readSync(i, buf, 0, CHUNK, at);
      const c = createCipheriv("aes-256-gcm", key, iv);
      const body = c.update(buf);
      c.final();
      writeSync(o, body, 0, body.length, j * (CHUNK + TAG_LENGTH));
      writeSync(o, c.getAuthTag(), 0, TAG_LENGTH, j * (CHUNK + TAG_LENGTH) + CHUNK);
    }
    closeSync(i);
    closeSync(o);
    rmSync(out);
  };
  const ours = async (): Promise<void> => {
    const out = join(work, `sealed-${k++}`);
    await sealFile(input, out, { dataKey: key, modelId: "bench", chunkSize: CHUNK });
    rmSync(out);
  };
  const t = { raw: [] as number[], ours: [] as number[] };
  for (let r = 0; r < 7; r++) {
    for (const [name, fn] of r % 2 ? ([["ours", ours], ["raw", raw]] as const) : ([["raw", raw], ["ours", ours]] as const)) t[name].push((await timeOnce(fn)).wall);
  }
  console.log(`file to file, ${SIZE / MiB} MiB, median of 7: raw read+encrypt+write ${median(t.raw).toFixed(0)} ms; sealFile ${median(t.ours).toFixed(0)} ms (also fsyncs and hashes the sealed file for its registration)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  await throughput();
  process.exit(0); // the idle hash worker is unref'd; exit at once all the same
}
