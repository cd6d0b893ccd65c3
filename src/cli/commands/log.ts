/**
 * `cloister log keygen|init|release|append|serve|verify`: the release log, a static
 * tlog-tiles folder. Keys are files (0600); only public and verifier keys are printed.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isCloisterError } from "../../errors.js";
import { type Checkpoint } from "../../transparency/checkpoint.js";
import { createKeyFile, publicKeyHex, readKeyFile } from "../../transparency/keys.js";
import { LogReader, httpLogFiles, type CheckpointState, type ReadLogFile } from "../../transparency/log-reader.js";
import { serveLogDir } from "../../transparency/log-server.js";
import { StaticLogWriter } from "../../transparency/log-writer.js";
import { leafHash, rootOf } from "../../transparency/merkle.js";
import { encodeVerifierKey, noteSigner, parseVerifierKey } from "../../transparency/note.js";
import { openRelease, parseReleaseStatement, releaseEntry, releaseMatches, signRelease } from "../../transparency/release.js";
import { fromBase64, toBase64 } from "../../transparency/base64.js";
import { equalBytes } from "../../util/bytes.js";
import { EXIT, untilStopped, type CliIO } from "../io.js";
import { issuerKeyEntry, issuerKeyStatement, openIssuerKey, signIssuerKey } from "../../transparency/issuer-statement.js";

const USAGE = `usage: cloister log <command> [options]

  log keygen --out FILE [--name ORIGIN]        a new Ed25519 key (file 0600); prints its public key
                                               (and, with --name, the log's note verifier key)
  log init DIR --origin ORIGIN --key FILE      an empty log signed by FILE's key; prints the verifier key
  log release --key FILE --component node|agent|pipeline|kms --name N --version V
              --commit SHA --measurement NAME=HEX [--measurement ...] [--image DIGEST ...]
                                               prints a signed release statement (JSON)
  log token-key --key FILE --from URL --epoch E [--issuer NAME]
                                               prints a signed statement publishing the token issuer
                                               key that the node at URL serves (GET /v1/tokens/issuer)
  log append DIR --key FILE RELEASE.json...    verifies each signed release (or issuer key) and appends it
  log serve DIR [--host H] [--port P]          serves the folder (any static web server will do)
  log verify URL|DIR --log-key VKEY [--measurement NAME=HEX ...] [--state FILE] [--json]
                                               checks the checkpoint's signature, consistency with
                                               --state, recomputes the tree from every entry, and
                                               with measurements finds their release and proves it`;

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      name: { type: "string" },
      origin: { type: "string" },
      key: { type: "string" },
      component: { type: "string" },
      version: { type: "string" },
      commit: { type: "string" },
      measurement: { type: "string", multiple: true },
      image: { type: "string", multiple: true },
      host: { type: "string" },
      port: { type: "string" },
      "log-key": { type: "string" },
      from: { type: "string" },
      epoch: { type: "string" },
      issuer: { type: "string" },
      state: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

function measurementsOf(list: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of list ?? []) {
    const eq = m.indexOf("=");
    if (eq <= 0) throw new Error(`--measurement wants NAME=HEX, got ${m}`);
    out[m.slice(0, eq)] = m.slice(eq + 1).toLowerCase().replace(/^0x/, "");
  }
  return out;
}

function fileState(path: string): CheckpointState {
  return {
    load: () => {
      try {
        const j = JSON.parse(readFileSync(path, "utf8")) as { origin: string; size: number; root: string };
        const root = fromBase64(j.root);
        return root ? { origin: j.origin, size: j.size, root, extensions: [] } : null;
      } catch {
        return null;
      }
    },
    save: (cp: Checkpoint) => writeFileSync(path, JSON.stringify({ origin: cp.origin, size: cp.size, root: toBase64(cp.root) }), { mode: 0o600 }),
  };
}

export async function logCommand(args: string[], io: CliIO): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (e) {
    io.err(`${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values: v, positionals } = parsed;
  const [sub, ...rest] = positionals;
  if (v.help || !sub) {
    (v.help ? io.out : io.err)(USAGE);
    return v.help ? EXIT.ok : EXIT.usage;
  }
  const at = (p: string): string => resolve(io.cwd, p);
  const need = (value: string | undefined, flag: string): string => {
    if (!value) throw new UsageError(`log ${sub} needs ${flag}`);
    return value;
  };
  try {
    switch (sub) {
      case "keygen": {
        const seed = createKeyFile(at(need(v.out, "--out FILE")));
        io.out(v.name ? encodeVerifierKey(noteSigner(v.name, seed)) : publicKeyHex(seed));
        return EXIT.ok;
      }
      case "init": {
        const dir = at(need(rest[0], "DIR"));
        const signer = noteSigner(need(v.origin, "--origin ORIGIN"), readKeyFile(at(need(v.key, "--key FILE"))));
        StaticLogWriter.open(dir, signer);
        io.out(encodeVerifierKey(signer));
        return EXIT.ok;
      }
      case "release": {
        const seed = readKeyFile(at(need(v.key, "--key FILE")));
        const statement = parseReleaseStatement({
          type: "cloister/release/v1",
          component: need(v.component, "--component"),
          name: need(v.name, "--name"),
          version: need(v.version, "--version"),
          source_commit: need(v.commit, "--commit SHA"),
          image_digests: v.image ?? [],
          measurements: measurementsOf(v.measurement),
          published_at: new Date().toISOString(),
        });
        io.out(JSON.stringify(signRelease(statement, seed), null, 2));
        return EXIT.ok;
      }
      case "token-key": {
        const seed = readKeyFile(at(need(v.key, "--key FILE")));
        const from = need(v.from, "--from URL").replace(/\/+$/, "").replace(/\/v1$/, "");
        const res = await fetch(`${from}/v1/tokens/issuer`, { redirect: "error" });
        if (!res.ok) throw new UsageError(`${from}/v1/tokens/issuer answered HTTP ${res.status}`);
        const dir = (await res.json()) as { "token-keys"?: { "token-type": number; "token-key": string }[] };
        const keys = (dir["token-keys"] ?? []).filter((k) => k["token-type"] === 2);
        if (keys.length !== 1 || !keys[0]) throw new UsageError(`${from} publishes ${keys.length} type-2 issuer keys; expected one`);
        const spki = new Uint8Array(Buffer.from(keys[0]["token-key"], "base64url"));
        const statement = issuerKeyStatement({ issuer: v.issuer ?? "cloister", spki, epoch: need(v.epoch, "--epoch E") });
        io.out(JSON.stringify(signIssuerKey(statement, seed), null, 2));
        return EXIT.ok;
      }
      case "append": {
        const [dirArg, ...files] = rest;
        if (!dirArg || files.length === 0) throw new UsageError("log append needs DIR and at least one RELEASE.json");
        const dir = at(dirArg);
        const cp = readFileSync(resolve(dir, "checkpoint"), "utf8");
        const origin = cp.slice(0, cp.indexOf("\n"));
        const w = StaticLogWriter.open(dir, noteSigner(origin, readKeyFile(at(need(v.key, "--key FILE")))));
        const entries = files.map((f) => {
          const value = JSON.parse(readFileSync(at(f), "utf8")) as { statement?: { type?: unknown } };
          return value.statement?.type === "cloister/token-issuer-key/v1" ? issuerKeyEntry(openIssuerKey(value)) : releaseEntry(openRelease(value));
        });
        const { first, checkpoint } = w.append(entries);
        io.out(v.json ? JSON.stringify({ first, size: checkpoint.size }) : `appended ${entries.length} release(s) at ${first}; the log now has ${checkpoint.size}`);
        return EXIT.ok;
      }
      case "serve": {
        const dir = at(need(rest[0], "DIR"));
        const server = await serveLogDir(dir, { host: v.host ?? "127.0.0.1", port: v.port ? Number(v.port) : 8090 });
        io.out(`serving the log in ${dir} at ${server.url}`);
        await untilStopped(io);
        await server.close();
        return EXIT.ok;
      }
      case "verify":
        return await verify(need(rest[0], "URL|DIR"), need(v["log-key"], "--log-key VKEY"), measurementsOf(v.measurement), v.state ? at(v.state) : undefined, v.json ?? false, io);
      default:
        throw new UsageError(`unknown log command ${sub}`);
    }
  } catch (e) {
    if (e instanceof UsageError || (e instanceof Error && e.message.startsWith("--measurement"))) {
      io.err(`${e.message}\n\n${USAGE}`);
      return EXIT.usage;
    }
    io.err(`cloister log ${sub}: ${isCloisterError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e)}`);
    return EXIT.failed;
  }
}

class UsageError extends Error {}

async function verify(where: string, vkey: string, measurements: Record<string, string>, state: string | undefined, json: boolean, io: CliIO): Promise<number> {
  const verifier = parseVerifierKey(vkey);
  const read: ReadLogFile = /^https?:\/\//.test(where) ? httpLogFiles(where) : async (p) => new Uint8Array(readFileSync(resolve(io.cwd, where, p)));
  const reader = new LogReader(verifier, read, state ? fileState(state) : undefined);
  const cp = await reader.checkpoint();
  const entries = await reader.entries(cp);
  // A full audit: the entries, hashed, must give the signed root.
  if (!equalBytes(rootOf(entries.map(leafHash)), cp.root)) {
    io.err(`cloister log verify: LOG_PROOF_INVALID: the entries served do not hash to the signed root`);
    return EXIT.failed;
  }
  const releases = entries.flatMap((e, index) => {
    try {
      return [{ index, release: openRelease(JSON.parse(new TextDecoder().decode(e))) }];
    } catch {
      return [];
    }
  });
  let found: (typeof releases)[number] | undefined;
  if (Object.keys(measurements).length > 0) {
    found = releases.filter((r) => releaseMatches(r.release.statement, measurements)).at(-1);
    if (found) await reader.proveInclusion(cp, found.index, releaseEntry(found.release));
  }
  const summary = {
    origin: cp.origin,
    size: cp.size,
    root: toBase64(cp.root),
    releases: releases.length,
    ...(Object.keys(measurements).length > 0 ? { match: found ? { index: found.index, ...found.release.statement } : null } : {}),
  };
  if (json) io.out(JSON.stringify(summary));
  else {
    io.out(`✓ ${cp.origin}: ${cp.size} entries, signature and tree verified (${releases.length} signed releases)`);
    if (found) io.out(`✓ measurements are release ${found.release.statement.name} ${found.release.statement.version} (entry ${found.index}, inclusion proved)`);
  }
  if (Object.keys(measurements).length > 0 && !found) {
    io.err("✗ MEASUREMENT_NOT_RELEASED: no release in the log has these measurements");
    return EXIT.failed;
  }
  return EXIT.ok;
}
