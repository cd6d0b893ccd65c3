/**
 * `cloister agent init|publish|list|show|run` — the developer's and the user's side of
 * the agent hub (src/agents). Publish builds with esbuild and signs with the developer's
 * Ed25519 key (made on first use, 0600). Run shows the scanner verdict and observability
 * level first, goes through the verifying client (attested, E2E-sealed, signature
 * checked) and verifies the receipt against the attested key.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ed25519 } from "@noble/curves/ed25519.js";
import { createVerifiedFetch } from "../../client/verified-fetch.js";
import { isCloisterError } from "../../errors.js";
import { resolveDataDir } from "../../config/node-config.js";
import { signBundle } from "../../agents/bundle.js";
import { buildBundle } from "../../agents/build.js";
import { runAgentVerified } from "../../agents/client.js";
import { exampleAgentFiles } from "../../agents/example.js";
import { parseRequirements } from "../../agents/guarantees.js";
import { MANIFEST_FILE } from "../../agents/manifest.js";
import { fromHex, toHex } from "../../util/bytes.js";
import { EXIT, type CliIO } from "../io.js";

const USAGE = `usage: cloister agent <init|publish|list|show|run> [options]

  agent init [DIR] [--name N] [--model M]     write a working example agent (openai client)
  agent publish DIR --url NODE [--key FILE] [--e2e]  build (esbuild), sign, publish; prints id and version
                                              (--e2e: attested and sealed, for an E2E-only node)
  agent list --url NODE [--query Q]           agents on the node's hub
  agent show NAME --url NODE                  manifest, scanner report, versions
  agent run NAME[@VERSION] --url NODE --input FILE|- [--require JSON] [--accept-full]
                                              run it; prints the output and the verified receipt
  --api-key K        API key (default: $CLOISTER_API_KEY)
  --key FILE         developer key (default: <data dir>/developer-ed25519.key, made on first use)
  --allow-simulated  accept a SIMULATED node (it proves nothing; for development)
  --json             machine-readable output`;

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      "api-key": { type: "string" },
      key: { type: "string" },
      name: { type: "string" },
      model: { type: "string" },
      query: { type: "string" },
      input: { type: "string" },
      require: { type: "string" },
      "accept-full": { type: "boolean" },
      "allow-simulated": { type: "boolean" },
      e2e: { type: "boolean" },
      "data-dir": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

export async function agentCommand(args: string[], io: CliIO): Promise<number> {
  let p: ReturnType<typeof parse>;
  try {
    p = parse(args);
  } catch (e) {
    io.err(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const v = p.values;
  const [sub, target] = p.positionals;
  if (v.help || !sub) {
    io.out(USAGE);
    return v.help ? EXIT.ok : EXIT.usage;
  }
  const apiKey = v["api-key"] ?? io.env["CLOISTER_API_KEY"];
  const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  const url = v.url?.replace(/\/+$/, "").replace(/\/v1$/, "");
  const needUrl = (): string => {
    if (!url) throw new UsageError("--url NODE is required");
    return url;
  };
  try {
    if (sub === "init") {
      const dir = resolve(io.cwd, target ?? ".");
      if (existsSync(join(dir, MANIFEST_FILE))) throw new UsageError(`${join(dir, MANIFEST_FILE)} exists already`);
      mkdirSync(dir, { recursive: true });
      for (const [f, text] of Object.entries(exampleAgentFiles(v.name ?? "my-agent", v.model ?? "default"))) writeFileSync(join(dir, f), text);
      io.out(`wrote an example agent to ${dir}: npm install there, then cloister agent publish ${target ?? "."} --url NODE`);
      return EXIT.ok;
    }
    if (sub === "publish") {
      if (!target) throw new UsageError("agent publish needs the agent's directory");
      const keyFile = v.key ?? join(resolveDataDir(v["data-dir"], io.env, io.cwd), "developer-ed25519.key");
      const signed = signBundle(await buildBundle(resolve(io.cwd, target)), developerKey(keyFile, io));
      // --e2e: through the verifying client (attested, sealed, answer signature checked), as an E2E-only node requires.
      const send = v.e2e ? createVerifiedFetch({ baseURL: `${needUrl()}/v1`, allowSimulated: v["allow-simulated"] ?? false, signingAlgo: "ed25519" }) : fetch;
      const res = await send(`${needUrl()}/v1/agents`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(signed) });
      const body = await answer(res);
      const b = body as { name: string; version: string; bundle_sha256: string; scanner_report: { verdict: string; findings: { rule: string; severity: string; file: string; line: number; message: string; third_party: boolean }[] } };
      if (v.json) io.out(JSON.stringify(b));
      else {
        io.out(`${b.name}@${b.version}  sha256:${b.bundle_sha256}  scanner: ${b.scanner_report.verdict}`);
        for (const f of b.scanner_report.findings.filter((x) => !x.third_party)) io.err(`  ${f.severity.padEnd(6)} ${f.rule}  ${f.file}:${f.line}  ${f.message}`);
      }
      return EXIT.ok;
    }
    if (sub === "list") {
      const b = (await answer(await fetch(`${needUrl()}/v1/agents?q=${encodeURIComponent(v.query ?? "")}`, { headers }))) as { data: { name: string; version: string; scanner_verdict: string; description: string }[] };
      if (v.json) io.out(JSON.stringify(b.data));
      else for (const a of b.data) io.out(`${a.name}@${a.version}  [${a.scanner_verdict}]  ${a.description}`);
      return EXIT.ok;
    }
    if (sub === "show") {
      if (!target) throw new UsageError("agent show needs a NAME");
      const b = await answer(await fetch(`${needUrl()}/v1/agents/${encodeURIComponent(target)}`, { headers }));
      io.out(v.json ? JSON.stringify(b) : JSON.stringify(b, null, 2));
      return EXIT.ok;
    }
    if (sub === "run") {
      if (!target) throw new UsageError("agent run needs NAME[@VERSION]");
      if (!v.input) throw new UsageError("--input FILE|- is required");
      const input = v.input === "-" ? readFileSync(0, "utf8") : readFileSync(resolve(io.cwd, v.input), "utf8");
      const requirements = v.require ? parseRequirements(JSON.parse(v.require) as unknown) : undefined;
      const [name, version] = target.split("@");
      const shown = (await answer(await fetch(`${needUrl()}/v1/agents/${encodeURIComponent(name ?? "")}${version ? `?version=${encodeURIComponent(version)}` : ""}`, { headers }))) as { manifest: { observability: string; egress: string[] }; scanner_report: { verdict: string } };
      // Shown before the run, as promised: what the scanner said and who may see what.
      io.err(`agent ${target}: scanner ${shown.scanner_report.verdict}, observability ${shown.manifest.observability}, egress [${shown.manifest.egress.join(", ")}]`);
      if (shown.manifest.observability === "full" && !v["accept-full"]) {
        io.err("this agent's developer sees your input and output in full (observability: full); pass --accept-full to run it anyway");
        return EXIT.failed;
      }
      const f = createVerifiedFetch({ baseURL: `${needUrl()}/v1`, allowSimulated: v["allow-simulated"] ?? false, signingAlgo: "ed25519" });
      const run = await runAgentVerified({ fetch: f, baseURL: needUrl(), ...(apiKey ? { apiKey } : {}), agent: target, input, ...(requirements ? { requirements } : {}), ...(v["accept-full"] ? { acceptFull: true } : {}) });
      if (v.json) io.out(JSON.stringify({ output: run.output, outcome: run.outcome, receipt: run.receipt }));
      else {
        io.out(run.output.replace(/\n$/, ""));
        const r = run.receipt.receipt;
        io.err(`receipt verified (signed by ${r.attestation.signing_address.slice(0, 16)}…, ${r.attestation.tee}): ${r.outcome}, bundle ${r.bundle_sha256.slice(0, 16)}…, egress ${r.egress.map((e) => `${e.host}:${e.bytes_out}/${e.bytes_in}B`).join(" ") || "none"}, refused ${r.egress_refused}`);
      }
      return run.outcome === "ok" ? EXIT.ok : EXIT.failed;
    }
    throw new UsageError(`unknown subcommand ${sub}`);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    io.err(`cloister agent ${sub}: ${isCloisterError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e)}`);
    return EXIT.failed;
  }
}

class UsageError extends Error {}

function developerKey(file: string, io: CliIO): Uint8Array {
  if (existsSync(file)) return fromHex(readFileSync(file, "utf8").trim());
  const sk = ed25519.utils.randomSecretKey();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${toHex(sk)}\n`, { mode: 0o600 });
  io.err(`made a developer key at ${file} (public ${toHex(ed25519.getPublicKey(sk))}); keep it: later versions must be signed with it`);
  return sk;
}

async function answer(res: Response): Promise<unknown> {
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`the node answered HTTP ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } }).error;
    throw new Error(`${(e?.code ?? `http_${res.status}`).toUpperCase()}: ${e?.message ?? "failed"}`);
  }
  return body;
}
