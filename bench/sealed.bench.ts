/**
 * Sealed models: seal and open throughput as a ratio to raw node:crypto AES-256-GCM over
 * the same bytes in the same process, and the time from `cloister up` to serving a sealed
 * model (key from 3 in-process brokers over loopback HTTP, decrypt into a memfd) vs the
 * plain one. `npm run bench -- sealed`.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSimulatorProvider } from "../src/attest/simulator/provider.js";
import { createBrokerApp } from "../src/kms/broker/app.js";
import { openBroker } from "../src/kms/broker/broker.js";
import { serveBroker, type RunningBroker } from "../src/kms/broker/serve.js";
import { fileStateKey } from "../src/kms/broker/state-key.js";
import { uploadShares } from "../src/kms/owner/upload.js";
import { ownerKey, registration, SIM_MRTD } from "../src/kms/test-fixtures.js";
import { bufferSource } from "../src/kms/file/io.js";
import { openChunk } from "../src/kms/file/chunk.js";
import { HEADER_MAC_LENGTH, parseHeaderPrefix, TAG_LENGTH } from "../src/kms/file/format.js";
import { fileKeys, headerDigest } from "../src/kms/file/keys.js";
import { openStream, readSealedHeader } from "../src/kms/file/open.js";
import { sealFile, sealStream } from "../src/kms/file/seal.js";
import { sharedPath } from "../src/util/shared.js";
import { startNode } from "../test/e2e/node-harness.js";
import { tinyModelPath } from "../test/fixtures/tiny-gguf.js";
import { percentile } from "./stats.js";

const MiB = 1024 * 1024;
const SIZE = 64 * MiB;
const CHUNK = MiB;
const ROUNDS = 9;

async function best(rounds: number, fn: () => Promise<void> | void): Promise<number> {
  const s: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await fn();
    s.push(performance.now() - t0);
  }
  return percentile(s, 50);
}

/**
 * Wall time and this process's CPU time (user + system, all its threads). On a shared
 * machine other processes stretch the wall time of whichever run they preempt; the CPU
 * time of these single-threaded, CPU-bound loops is what the work itself costs.
 */
async function timeOnce(fn: () => Promise<void> | void): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

const gbps = (ms: number): string => `${((SIZE / MiB / 1024) / (ms / 1000)).toFixed(2)} GiB/s`;

async function throughput(): Promise<void> {
  const plain = randomBytes(SIZE);
  const key = randomBytes(32);
  const iv = randomBytes(12);
  let sink = 0;
  const rawSeal = (): void => {
    const c = createCipheriv("aes-256-gcm", key, iv);
    for (let o = 0; o < SIZE; o += CHUNK) sink += c.update(plain.subarray(o, o + CHUNK)).length;
    c.final();
    c.getAuthTag();
  };
  const rawCt = (() => {
    const c = createCipheriv("aes-256-gcm", key, iv);
    return { ct: Buffer.concat([c.update(plain), c.final()]), tag: c.getAuthTag() };
  })();
  const rawOpen = (): void => {
    const d = createDecipheriv("aes-256-gcm", key, iv);
    d.setAuthTag(rawCt.tag);
    for (let o = 0; o < SIZE; o += CHUNK) sink += d.update(rawCt.ct.subarray(o, o + CHUNK)).length;
    d.final();
  };
  const sha = createHash("sha256").update(plain).digest("hex");
  const src = bufferSource(plain);
  const opts = { dataKey: key, modelId: "bench", chunkSize: CHUNK };
  const sealEncrypt = async (): Promise<void> => void (await sealStream(src, (b) => void (sink += b.length), { ...opts, plaintextSha256: sha }));
  const sealWhole = async (): Promise<void> => void (await sealStream(src, (b) => void (sink += b.length), opts));
  const parts: Buffer[] = [];
  await sealStream(src, (b) => void parts.push(Buffer.from(b)), { ...opts, plaintextSha256: sha });
  const sealed = Buffer.concat(parts);
  // The construction's own cost: every chunk's nonce, AAD and tag, without the hash pass.
  const { headerLength, encoded } = await readSealedHeader(bufferSource(sealed));
  const hdr = parseHeaderPrefix(encoded);
  const salt = "header" in hdr ? Buffer.from(hdr.header.salt, "hex") : Buffer.alloc(32);
  const chunkKey = fileKeys(key, salt).chunkKey;
  const hh = headerDigest(encoded);
  const n = SIZE / CHUNK;
  const openChunks = (): void => {
    for (let i = 0; i < n; i++) {
      const at = headerLength + HEADER_MAC_LENGTH + i * (CHUNK + TAG_LENGTH);
      const p = openChunk(chunkKey, hh, i, i === n - 1, sealed.subarray(at, at + CHUNK + TAG_LENGTH));
      if (!p) throw new Error("bench: chunk did not open");
      sink += p.length;
    }
  };
  const openWhole = async (): Promise<void> => void (await openStream(bufferSource(sealed), key, (p) => void (sink += p.length)));
  const hashOnly = (): void => void createHash("sha256").update(plain).digest();

  // Interleaved: each round times the baseline and ours back to back, so load from other
  // processes on this machine hits both alike.
  const names = ["rawSeal", "sealEncrypt", "sealWhole", "rawOpen", "openChunks", "openWhole", "sha256"] as const;
  const fns = { rawSeal, sealEncrypt, sealWhole, rawOpen, openChunks, openWhole, sha256: hashOnly };
  const t: Record<(typeof names)[number], { wall: number; cpu: number }[]> = { rawSeal: [], sealEncrypt: [], sealWhole: [], rawOpen: [], openChunks: [], openWhole: [], sha256: [] };
  for (let r = 0; r < ROUNDS; r++) for (const k of names) t[k].push(await timeOnce(fns[k]));
  // The fastest of the rounds is the least disturbed by other processes (this machine is shared).
  const fastest = (k: (typeof names)[number], m: "wall" | "cpu"): number => Math.min(...t[k].map((x) => x[m]));
  const ratio = (base: (typeof names)[number], ours: (typeof names)[number], m: "wall" | "cpu"): number => fastest(base, m) / fastest(ours, m);
  const line = (label: string, base: (typeof names)[number], ours: (typeof names)[number], note: string, goal: boolean): void => {
    const cpu = ratio(base, ours, "cpu");
    const verdict = goal ? (cpu >= 0.9 ? "  goal >= 0.9: met" : "  goal >= 0.9: NOT met") : "";
    console.log(`${label.padEnd(30)} ${gbps(fastest(ours, "cpu"))} (CPU)  ratio ${cpu.toFixed(3)} by CPU time, ${ratio(base, ours, "wall").toFixed(3)} by wall time  ${note}${verdict}`);
  };
  void sink;
  console.log(`${SIZE / MiB} MiB in memory, ${CHUNK / MiB} MiB chunks, ${ROUNDS} interleaved rounds (fastest of each; throughput per CPU second of this process)`);
  console.log(`raw node:crypto AES-256-GCM    seal ${gbps(fastest("rawSeal", "cpu"))}  open ${gbps(fastest("rawOpen", "cpu"))}   (SHA-256 alone: ${gbps(fastest("sha256", "cpu"))})`);
  line("seal, chunk encryption", "rawSeal", "sealEncrypt", "to raw seal", true);
  line("seal, with the plaintext hash", "rawSeal", "sealWhole", "(the header names the SHA-256: a second pass)", false);
  line("open, chunk decryption", "rawOpen", "openChunks", "to raw open", true);
  line("open, chunks + MAC + SHA-256", "rawOpen", "openWhole", "(includes the required plaintext hash check)", false);
}

async function startup(): Promise<void> {
  const stories = sharedPath("models", "stories260K.gguf");
  const modelPath = stories ?? (await tinyModelPath());
  const work = mkdtempSync(join(tmpdir(), "cloister-sealed-bench-"));
  const running: RunningBroker[] = [];
  try {
    const urls: string[] = [];
    for (let i = 0; i < 3; i++) {
      const dir = mkdtempSync(join(work, "b-"));
      const b = openBroker({ dataDir: dir, stateKey: fileStateKey(join(dir, "state.key")), tee: createSimulatorProvider({ gpu: false }) });
      const r = await serveBroker(createBrokerApp(b), "127.0.0.1", 0);
      running.push(r);
      urls.push(r.url);
    }
    const dataKey = randomBytes(32);
    const sealedPath = join(work, "m.sealed");
    const { header, sealedSha256 } = await sealFile(modelPath, sealedPath, { dataKey, modelId: "bench" });
    const owner = ownerKey();
    const reg = registration(owner, dataKey, { model_id: "bench", sealed_sha256: sealedSha256, plaintext_sha256: header.plaintext_sha256, plaintext_size: header.plaintext_size, policy: { allowSimulated: true, measurements: { mrtd: [SIM_MRTD] } } });
    await uploadShares({ registration: reg, dataKey: Uint8Array.from(dataKey), brokers: urls, trust: { allowSimulated: true } });
    const time = async (args: string[]): Promise<number> =>
      best(3, async () => {
        const n = await startNode(["--tee", "simulated", "--no-auth", ...args]);
        await n.stop();
      });
    const plainMs = await time(["--model", modelPath]);
    const sealedMs = await time(["--model", sealedPath, "--kms", urls.join(","), "--kms-allow-simulated"]);
    console.log(`\ncloister up to serving (${stories ? "stories260K" : "tiny model"}, ${(header.plaintext_size / MiB).toFixed(2)} MiB, in-process node, 3 loopback brokers, median of 3)`);
    console.log(`plain ${plainMs.toFixed(0)} ms   sealed ${sealedMs.toFixed(0)} ms   ratio ${(sealedMs / plainMs).toFixed(2)} (sealed / plain; the difference is attesting 3 brokers, 3 releases, decrypting into a memfd)`);
  } finally {
    await Promise.all(running.map((r) => r.close()));
    rmSync(work, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  await throughput();
  await startup();
}
