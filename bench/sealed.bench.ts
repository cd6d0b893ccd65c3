/**
 * Sealed models: seal and open throughput as a ratio to raw node:crypto AES-256-GCM over
 * the same bytes in the same process (bench/sealed-throughput.ts, run as a process of its
 * own so that only the sealed-file code is loaded), and the time from `cloister up` to
 * serving a sealed model (key from 3 in-process brokers over loopback HTTP, decrypt into a
 * memfd) vs the plain one. `npm run bench -- sealed`.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createSimulatorProvider } from "../src/attest/simulator/provider.js";
import { createBrokerApp } from "../src/kms/broker/app.js";
import { openBroker } from "../src/kms/broker/broker.js";
import { serveBroker, type RunningBroker } from "../src/kms/broker/serve.js";
import { fileStateKey } from "../src/kms/broker/state-key.js";
import { uploadShares } from "../src/kms/owner/upload.js";
import { ownerKey, registration, SIM_MRTD } from "../src/kms/test-fixtures.js";
import { sealFile } from "../src/kms/file/seal.js";
import { sharedPath } from "../src/util/shared.js";
import { startNode } from "../test/e2e/node-harness.js";
import { tinyModelPath } from "../test/fixtures/tiny-gguf.js";
import { percentile } from "./stats.js";

const MiB = 1024 * 1024;

async function best(rounds: number, fn: () => Promise<void> | void): Promise<number> {
  const s: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await fn();
    s.push(performance.now() - t0);
  }
  return percentile(s, 50);
}

function throughput(): void {
  const script = join(dirname(fileURLToPath(import.meta.url)), "sealed-throughput.ts");
  const r = spawnSync(process.execPath, ["--import", "tsx", script], { stdio: "inherit" });
  if (r.status !== 0) throw new Error(`bench/sealed-throughput.ts exited ${r.status ?? r.signal}`);
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
  throughput();
  await startup();
}
