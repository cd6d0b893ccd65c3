/**
 * `cloister chat --url URL [--model M] [--api-key K] [--allow-simulated] [--policy FILE]
 * [--no-e2e] [--json] "prompt"`: attests the node with a fresh nonce, seals the prompt to
 * its attested key, streams the answer as it is opened and fails (exit 1, with the code)
 * if anything does not verify, including the signature at the end of the stream.
 */
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadPolicyFile } from "../../attest/policy/load.js";
import type { Policy } from "../../attest/policy/schema.js";
import { verifyAttestationReport } from "../../attest/verify.js";
import { createCloisterClient } from "../../client/cloister-client.js";
import { createFilePinStore } from "../pin-file.js";
import { isUncheckedItem } from "../../attest/report/unchecked.js";
import { resolveDataDir } from "../../config/node-config.js";
import type { ReportVerifier } from "../../client/verifier.js";
import { ConfigError, isCloisterError } from "../../errors.js";
import { parseNonce } from "../../types.js";
import { EXIT, type CliIO } from "../io.js";
import { checkpointStateFor, namedReleaseLog, RELEASE_LOG_OPTIONS, RELEASE_LOG_USAGE } from "../release-log-flags.js";
import { DEFAULT_RELEASE_LOG } from "../../client/release-log-default.js";
import { parseVerifierKey } from "../../transparency/note.js";

const USAGE = `usage: cloister chat --url URL [options] "prompt"

  --url URL            the node (e.g. https://node.example or http://127.0.0.1:8080)
  --model M            model id (default: the node's first model)
  --api-key K          API key (default: $CLOISTER_API_KEY)
  --allow-simulated    accept a SIMULATED node (it proves nothing; for development)
  --policy FILE        measurement policy JSON the node must satisfy (pinning measurements or a
                       Sigstore release, it replaces the default release-log policy)
${RELEASE_LOG_USAGE}
  --no-e2e             send the prompt unsealed (signatures are still checked)
  --tofu               pin the node's measurements on first use in <data-dir>/pinned-measurements.json
                       and refuse (MEASUREMENTS_CHANGED) when they change
  --pin-file FILE      the same, in FILE
  --accept-unchecked I let item I stay unchecked: tcb, gpu-rim, gpu-ocsp (default: each fails)
  --data-dir DIR       where --tofu keeps its pins (default $CLOISTER_DATA_DIR or ~/.cloister)
  --max-tokens N       limit the answer's length
  --json               print {"verified", "tee", "signingAddress", "e2ee", "content"} at the end`;

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      model: { type: "string" },
      "api-key": { type: "string" },
      "allow-simulated": { type: "boolean" },
      policy: { type: "string" },
      "no-e2e": { type: "boolean" },
      tofu: { type: "boolean" },
      "pin-file": { type: "string" },
      "accept-unchecked": { type: "string", multiple: true },
      "data-dir": { type: "string" },
      "max-tokens": { type: "string" },
      json: { type: "boolean" },
      ...RELEASE_LOG_OPTIONS,
      help: { type: "boolean", short: "h" },
    },
  });
}

/** CliIO's `out` ends every call with a newline; a raw `write`, when the IO has one, lets tokens flow. */
function writer(io: CliIO): { write: (t: string) => void; end: () => void } {
  const raw = io.write;
  if (raw) return { write: (t) => raw(t), end: () => raw("\n") };
  let line = "";
  return {
    write: (t) => {
      line += t;
      const i = line.lastIndexOf("\n");
      if (i >= 0) {
        io.out(line.slice(0, i + 1));
        line = line.slice(i + 1);
      }
    },
    end: () => io.out(line),
  };
}

function baseURLOf(url: string): string {
  const u = url.replace(/\/+$/, "");
  return u.endsWith("/v1") ? u : `${u}/v1`;
}

export async function chatCommand(args: string[], io: CliIO): Promise<number> {
  let v: ReturnType<typeof parse>["values"];
  let positionals: string[];
  try {
    ({ values: v, positionals } = parse(args));
  } catch (e) {
    io.err(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (v.help) {
    io.out(USAGE);
    return EXIT.ok;
  }
  const prompt = positionals.join(" ").trim();
  if (!v.url || !prompt) {
    io.err(USAGE);
    return EXIT.usage;
  }
  const maxTokens = v["max-tokens"] === undefined ? undefined : Number(v["max-tokens"]);
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens <= 0)) {
    io.err("--max-tokens must be a positive integer");
    return EXIT.usage;
  }

  const json = v.json ?? false;
  const e2e = !(v["no-e2e"] ?? false);
  const allowSimulated = v["allow-simulated"] ?? false;
  try {
    let policy: Policy | undefined;
    let policyDir: string | undefined;
    if (v.policy) {
      const path = resolve(io.cwd, v.policy);
      policy = loadPolicyFile(path);
      policyDir = dirname(path);
    }
    const acceptUnchecked = (v["accept-unchecked"] ?? []).flatMap((x) => x.split(",")).map((x) => x.trim()).filter(Boolean);
    const unknown = acceptUnchecked.filter((x) => !isUncheckedItem(x));
    if (unknown.length) throw new ConfigError("INVALID_OPTIONS", `--accept-unchecked ${unknown.join(",")}: expected tcb, gpu-rim or gpu-ocsp`);
    const accepted = acceptUnchecked.filter(isUncheckedItem);
    const verifyReport: ReportVerifier = (report, o) =>
      verifyAttestationReport(report, { nonce: parseNonce(o.nonce), allowSimulated: o.allowSimulated, acceptUnchecked: accepted, ...(policy ? { policy } : {}), ...(policyDir ? { policyDir } : {}) });
    const pinFile = v["pin-file"] ? resolve(io.cwd, v["pin-file"]) : v.tofu ? resolve(resolveDataDir(v["data-dir"], io.env, io.cwd), "pinned-measurements.json") : null;
    // Every attestation without pinned measurements says so (stderr), --json or not.
    const attestation = { ...(pinFile ? { pins: createFilePinStore(pinFile) } : {}), onWarning: (m: string) => io.err(m) };
    const baseURL = baseURLOf(v.url);
    const apiKey = v["api-key"] ?? io.env["CLOISTER_API_KEY"];
    // The default policy is the release log: the one named (flags, env), else Cloister's own;
    // either way its last checkpoint is kept in the data dir, so a fork between runs shows.
    const dataDir = resolveDataDir(v["data-dir"], io.env, io.cwd);
    const releaseLog = namedReleaseLog(v, io.env, dataDir);
    const releaseLogState = checkpointStateFor(dataDir, parseVerifierKey(DEFAULT_RELEASE_LOG.key).name);
    const client = createCloisterClient({ baseURL, allowSimulated, e2e, verifyReport, attestation, releaseLogState, ...(releaseLog ? { releaseLog } : {}), ...(policy ? { policy } : {}), ...(apiKey ? { apiKey, headers: { authorization: `Bearer ${apiKey}` } } : {}) });

    const pinned = await client.attestation();
    if (pinned.simulated && !json) io.err("warning: this node is SIMULATED; its attestation proves nothing");
    const model = v.model ?? (await firstModel(client.fetch, baseURL, apiKey));
    const stream = await client.chat.completions.create({ model, messages: [{ role: "user", content: prompt }], stream: true, ...(maxTokens ? { max_tokens: maxTokens } : {}) });
    const out = writer(io);
    let content = "";
    for await (const chunk of stream) {
      const text = chunk.choices[0]?.delta.content ?? "";
      content += text;
      if (!json && text) out.write(text);
    }
    // The loop ends only after the signature over the whole stream verified.
    if (json) {
      io.out(JSON.stringify({ verified: true, tee: pinned.tee, simulated: pinned.simulated, signingAddress: pinned.signingAddress, signingAlgo: pinned.signingAlgo, e2ee: e2e, e2e, model, content, ...releaseOf(pinned.verification) }));
    } else {
      out.end();
    }
    return EXIT.ok;
  } catch (err) {
    const code = isCloisterError(err) ? err.code : "INTERNAL";
    const message = err instanceof Error ? err.message : String(err);
    if (json) io.out(JSON.stringify({ verified: false, error: { code, message } }));
    io.err(`cloister chat: ${code}: ${message}`);
    return err instanceof ConfigError ? EXIT.usage : EXIT.failed;
  }
}

/** The release-log entry that proved the node's code, for --json. */
function releaseOf(v: object): { release?: { index: number; treeSize: number; name: string; version: string } } {
  const r = (v as { release?: { index: number; treeSize: number; release: { statement: { name: string; version: string } } } }).release;
  return r ? { release: { index: r.index, treeSize: r.treeSize, name: r.release.statement.name, version: r.release.statement.version } } : {};
}

async function firstModel(f: typeof fetch, baseURL: string, apiKey: string | undefined): Promise<string> {
  const res = await f(`${baseURL}/models`, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
  const body = (await res.json().catch(() => null)) as { data?: { id?: unknown }[] } | null;
  const id = body?.data?.[0]?.id;
  if (!res.ok || typeof id !== "string") throw new ConfigError("NO_MODEL", "the node lists no model; pass --model");
  return id;
}
