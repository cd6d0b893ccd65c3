/**
 * `cloister data <scrub|up|contribute|key|pool|claim>`: private data contributions (src/data).
 *   data scrub [FILE|-] [--json]   the pipeline's cleaner, locally, on JSON lines {"text": ...}
 *   data up                        a node running the pipeline (attested, E2E, signed receipts)
 *   data contribute FILE --url U --dataset D   verify the pipeline, seal, get a verified receipt
 */
import { randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { resolveDataDir } from "../../config/node-config.js";
import { isCloisterError } from "../../errors.js";
import { contribute } from "../../data/contribute.js";
import { startDataNode } from "../../data/node.js";
import { payoutCommitment } from "../../data/rewards/pool.js";
import { jsonLines, scrubLineWithModel } from "../../data/scrub.js";
import type { NerModel } from "../../data/clean/onnx/ner-model.js";
import { createLogger } from "../../log/logger.js";
import { selectTeeProvider, TEE_KINDS, type TeeKind } from "../../tee/select.js";
import { EXIT, untilStopped, type CliIO } from "../io.js";

const USAGE = `usage: cloister data <command> [options]

  data scrub [FILE|-] [--json] [--ner-model PATH]
                                 clean JSON lines {"text": ...} with the pipeline's exact cleaner;
                                 prints the cleaned text per line, or with --json
                                 {"text", "spans": [{start, end, type}], "rejected", "risk"}
                                 (spans in the original text)
  data up [--host H] [--port P] [--tee auto|tdx|sev-snp|dstack|simulated] [--data-dir DIR] [--auth]
          [--pool-contract ADDRESS --pool-chain-id N]   sign reward claims for that DataPool
          [--ner-model PATH]     also run an ONNX token classifier (PATH + PATH.json; hash measured)
          [--kms URL,URL --dataset NAME --dataset-key-id ID [--kms-allow-simulated]]
                                 take the dataset key from the key brokers (released only to
                                 evidence the dataset's policy admits; \`data key upload\` put it
                                 there and printed the id) instead of a boot key
                                 serve the pipeline: POST /v1/data/contributions (sealed),
                                 GET /v1/data/pipeline, GET /v1/data/datasets/NAME/manifest
  data contribute FILE --url URL --dataset NAME [--allow-simulated] [--expect MEASUREMENT]
                  [--payout-commitment HEX32 | --payout ADDRESS [--receipt-out FILE]] [--key-file PATH] [--json]
                                 FILE: JSON lines {"text": ...}; prints the verified receipt; with
                                 --payout, commits to the address with a fresh salt (the pipeline
                                 never sees it) and writes receipt, claim, payout and salt to
                                 --receipt-out (default DATA_DIR/receipts/ID.json, mode 0600)
  data key upload --dataset NAME --kms URL,URL,... --owner-key FILE --pipeline-measurement HEX ...
                                 the dataset owner: put the dataset key with the key brokers,
                                 released only to that pipeline and the training jobs named (data key --help)
  data pool ... | data claim ...   reward pools on chain (data pool --help)`;

export async function dataCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "scrub") return scrub(rest, io);
  if (sub === "up") return up(rest, io);
  if (sub === "contribute") return contributeCmd(rest, io);
  if (sub === "pool" || sub === "claim") return (await import("./data-pool.js")).poolCommand(sub, rest, io);
  if (sub === "key") return (await import("./data-key.js")).dataKeyCommand(rest, io);
  if (!sub || sub === "--help" || sub === "-h") {
    io.out(USAGE);
    return sub ? EXIT.ok : EXIT.usage;
  }
  io.err(`unknown data command: ${sub}\n\n${USAGE}`);
  return EXIT.usage;
}

async function scrub(args: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean" }, "ner-model": { type: "string" }, help: { type: "boolean", short: "h" } } });
  } catch (cause) {
    io.err(`${cause instanceof Error ? cause.message : String(cause)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (parsed.values.help) {
    io.out(USAGE);
    return EXIT.ok;
  }
  const file = parsed.positionals[0];
  const input = !file || file === "-" ? process.stdin : createReadStream(resolve(io.cwd, file));
  let failed = false;
  let model: NerModel | null = null;
  try {
    model = await loadModelFlag(parsed.values["ner-model"], io);
  } catch (err) {
    io.err(`cloister data scrub: ${isCloisterError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    return EXIT.failed;
  }
  try {
    for await (const { line, no } of jsonLines(input as AsyncIterable<Uint8Array>)) {
      try {
        const r = await scrubLineWithModel(line, no, model);
        io.out(parsed.values.json ? JSON.stringify(r) : r.text);
      } catch (err) {
        if (!isCloisterError(err)) throw err;
        io.err(`${err.code}: ${err.message}`);
        failed = true;
      }
    }
  } catch (err) {
    io.err(`cannot read ${file ?? "standard input"}: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  } finally {
    await model?.close();
  }
  return failed ? EXIT.failed : EXIT.ok;
}

async function up(args: string[], io: CliIO): Promise<number> {
  let values;
  try {
    values = parseArgs({ args, options: { host: { type: "string" }, port: { type: "string" }, tee: { type: "string" }, "data-dir": { type: "string" }, auth: { type: "boolean" }, "pool-contract": { type: "string" }, "pool-chain-id": { type: "string" }, "ner-model": { type: "string" },
      kms: { type: "string" }, "kms-allow-simulated": { type: "boolean" }, dataset: { type: "string" }, "dataset-key-id": { type: "string" } } }).values;
  } catch (cause) {
    io.err(`${cause instanceof Error ? cause.message : String(cause)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const kind = (values.tee ?? "auto") as TeeKind;
  if (!TEE_KINDS.includes(kind)) {
    io.err(`--tee must be one of ${TEE_KINDS.join(", ")}`);
    return EXIT.usage;
  }
  const poolContract = values["pool-contract"];
  const poolChain = Number(values["pool-chain-id"]);
  if (poolContract !== undefined && (!/^0x[0-9a-fA-F]{40}$/.test(poolContract) || !Number.isSafeInteger(poolChain) || poolChain <= 0)) {
    io.err("--pool-contract ADDRESS needs --pool-chain-id N (claims are signed for that chain's DataPool)");
    return EXIT.usage;
  }
  const kms = values.kms ? values.kms.split(",").map((u) => u.trim()).filter(Boolean) : [];
  if (kms.length > 0 && (!values.dataset || !values["dataset-key-id"] || !/^[0-9a-f]{32}$/.test(values["dataset-key-id"]))) {
    io.err("--kms URL,URL needs --dataset NAME and --dataset-key-id ID (the key id `cloister data key upload` printed)");
    return EXIT.usage;
  }
  const logger = createLogger({ sink: (l) => io.err(l) });
  let nerModel: NerModel | null;
  try {
    nerModel = await loadModelFlag(values["ner-model"], io);
  } catch (err) {
    io.err(`cloister data up: ${isCloisterError(err) ? `${err.code}: ${err.message}` : String(err)}`);
    return EXIT.failed;
  }
  const tee = await selectTeeProvider(kind);
  let node: Awaited<ReturnType<typeof startDataNode>>;
  try {
    node = await startDataNode({
      tee,
      dataDir: resolveDataDir(values["data-dir"], io.env, io.cwd),
      host: values.host ?? "127.0.0.1",
      port: Number(values.port ?? 8090),
      auth: values.auth ?? false,
      logger,
      ...(poolContract ? { rewards: { chainId: poolChain, pool: poolContract } } : {}),
      ...(nerModel ? { nerModel } : {}),
      ...(kms.length > 0 && values.dataset && values["dataset-key-id"]
        ? { datasetKeyFrom: { brokers: kms, dataset: values.dataset, keyId: values["dataset-key-id"], trust: { allowSimulated: values["kms-allow-simulated"] ?? false } } }
        : {}),
    });
  } catch (err) {
    await nerModel?.close();
    io.err(`cloister data up: ${isCloisterError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
  io.out(`cloister data up: pipeline at ${node.url}/v1/data  tee=${tee.name}  signing address ${node.signingAddress}`);
  io.out(`  pipeline measurement ${node.pipeline.measurement} (${node.pipeline.description.cleaner}${nerModel ? `, NER model ${nerModel.sha256}` : ""})`);
  if (tee.simulated) io.out("SIMULATED TEE: no hardware protection — for development only; contributors refuse it unless --allow-simulated");
  await untilStopped(io);
  await node.close();
  await nerModel?.close();
  return EXIT.ok;
}

/** `--ner-model PATH`: the optional ONNX layer (loaded only when asked for). */
async function loadModelFlag(path: string | undefined, io: CliIO): Promise<NerModel | null> {
  if (!path) return null;
  const { loadNerModel } = await import("../../data/clean/onnx/ner-model.js");
  return loadNerModel(resolve(io.cwd, path));
}


/** The contributor's secret key: made once, kept beside the CLI's data (0600). */
function contributorKey(path: string): string {
  if (existsSync(path)) return readFileSync(path, "utf8").trim();
  mkdirSync(dirname(path), { recursive: true });
  const k = randomBytes(32).toString("hex");
  writeFileSync(path, `${k}\n`, { mode: 0o600 });
  return k;
}

async function contributeCmd(args: string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        url: { type: "string" }, dataset: { type: "string" }, "allow-simulated": { type: "boolean" }, expect: { type: "string" },
        "payout-commitment": { type: "string" }, payout: { type: "string" }, "receipt-out": { type: "string" }, "key-file": { type: "string" }, "data-dir": { type: "string" }, json: { type: "boolean" },
      },
    });
  } catch (cause) {
    io.err(`${cause instanceof Error ? cause.message : String(cause)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const file = positionals[0];
  if (!file || !values.url || !values.dataset) {
    io.err(`data contribute needs FILE, --url and --dataset\n\n${USAGE}`);
    return EXIT.usage;
  }
  const records: Array<{ text: string }> = [];
  for await (const { line, no } of jsonLines(createReadStream(resolve(io.cwd, file)) as AsyncIterable<Uint8Array>)) {
    try {
      const v = JSON.parse(line) as { text?: unknown };
      if (typeof v.text !== "string") throw new Error();
      records.push({ text: v.text });
    } catch {
      io.err(`line ${no} is not {"text": "..."}`);
      return EXIT.usage;
    }
  }
  const keyFile = values["key-file"] ?? join(resolveDataDir(values["data-dir"], io.env, io.cwd), "contributor.key");
  if (values.payout && (!/^0x[0-9a-fA-F]{40}$/.test(values.payout) || values["payout-commitment"])) {
    io.err(`--payout must be an address (and not given with --payout-commitment)\n\n${USAGE}`);
    return EXIT.usage;
  }
  const payout = values.payout?.toLowerCase() as `0x${string}` | undefined;
  const salt = `0x${randomBytes(32).toString("hex")}` as `0x${string}`;
  const commitment = payout ? payoutCommitment(payout, salt) : values["payout-commitment"];
  try {
    const r = await contribute({
      baseURL: values.url,
      dataset: values.dataset,
      records,
      contributorKey: contributorKey(keyFile),
      allowSimulated: values["allow-simulated"] ?? false,
      ...(values.expect ? { expectedPipeline: values.expect } : {}),
      ...(commitment ? { payoutCommitment: commitment } : {}),
    });
    if (payout && r.claim) {
      // The salt is the only way to claim: kept beside the receipt, readable by the owner only.
      const path = values["receipt-out"] ? resolve(io.cwd, values["receipt-out"]) : join(resolveDataDir(values["data-dir"], io.env, io.cwd), "receipts", `${r.receipt.message.contributionId}.json`);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, JSON.stringify({ receipt: r.receipt, claim: r.claim, payout, salt }, null, 2), { mode: 0o600 });
      if (!values.json) io.out(`  claim saved to ${path} (claim with: cloister data claim ${path} --pool POOL_ID)`);
    }
    if (values.json) io.out(JSON.stringify(r));
    else {
      const m = r.receipt.message;
      io.out(`contribution ${m.contributionId} ${m.accepted ? "ACCEPTED" : "REJECTED"}: ${m.recordsKept} kept, ${m.recordsRejected} rejected, ${m.recordsDuplicate} duplicate of ${m.recordsReceived}`);
      io.out(`  receipt signed by the attested pipeline ${r.signingAddress}${r.simulated ? " (SIMULATED)" : ""}; pipeline ${m.pipeline}`);
      io.out(`  removed: ${Object.entries(r.removed).map(([t, n]) => `${t} ${n}`).join(", ") || "nothing"}`);
      for (const rec of r.records) if (rec.status !== "kept") io.out(`  record ${rec.index}: ${rec.status}${rec.reason ? ` (${rec.reason})` : ""}`);
    }
    return r.receipt.message.accepted ? EXIT.ok : EXIT.failed;
  } catch (err) {
    io.err(`cloister data contribute: ${isCloisterError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
}
