/**
 * `cloister keys create [--name N] | list | revoke ID  [--data-dir DIR]`.
 * A key is printed once, at creation, and stored only as its SHA-256 hash.
 */
import { parseArgs } from "node:util";
import { resolveDataDir, resolveStoreUrl } from "../../config/node-config.js";
import { ConfigError, isCloisterError } from "../../errors.js";
import { generateApiKey } from "../../store/api-keys.js";
import { openNodeStore, type OpenedStore } from "../../store/postgres-select.js";
import { EXIT, type CliIO } from "../io.js";

const USAGE = `usage: cloister keys <create|list|revoke> [options]

  keys create [--name NAME]   make a key; it is shown once, only its hash is kept
  keys list                   id, name, created, revoked (never the key)
  keys revoke ID              the key stops working on the next request
  --data-dir DIR              the node's data dir (env CLOISTER_DATA_DIR; default ~/.cloister)
  --store URL                 postgres://… when the node keeps its keys there (env CLOISTER_STORE)`;

export async function keysCommand(args: string[], io: CliIO): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (cause) {
    io.err(`${cause instanceof Error ? cause.message : String(cause)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return EXIT.ok;
  }
  const [sub, ...rest] = positionals;
  const dataDir = resolveDataDir(values["data-dir"], io.env, io.cwd);
  let storeUrl: string | undefined;
  try {
    storeUrl = resolveStoreUrl(values.store, io.env);
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (sub !== "create" && sub !== "list" && sub !== "revoke") {
    io.err(USAGE);
    return EXIT.usage;
  }
  if (sub === "revoke" && rest.length !== 1) {
    io.err(`keys revoke needs exactly one key id\n\n${USAGE}`);
    return EXIT.usage;
  }
  let store: OpenedStore;
  try {
    // Never recovers usage rows: the node may be serving them right now.
    store = await openNodeStore({ url: storeUrl, dataDir, recover: false });
  } catch (err) {
    io.err(`cloister keys: ${isCloisterError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}`);
    return EXIT.failed;
  }
  const where = storeUrl ? store.where : dataDir;
  try {
    if (sub === "create") {
      const k = generateApiKey();
      await store.createApiKey({ id: k.id, hash: k.hash, name: values.name ?? null, created: Date.now() });
      io.out(`${k.key}`);
      io.err(`created ${k.id}${values.name ? ` (${values.name})` : ""} in ${where}; the key above is shown only once — store it now`);
      return EXIT.ok;
    }
    if (sub === "list") {
      const keys = await store.listApiKeys();
      if (!keys.length) {
        io.err(`no API keys in ${where}; make one with: cloister keys create --name NAME`);
        return EXIT.ok;
      }
      io.out(["ID".padEnd(18), "NAME".padEnd(20), "CREATED".padEnd(25), "REVOKED"].join(" "));
      for (const k of keys) {
        const revoked = k.revoked === null ? "-" : new Date(k.revoked).toISOString();
        io.out([k.id.padEnd(18), (k.name ?? "-").padEnd(20), new Date(k.created).toISOString().padEnd(25), revoked].join(" "));
      }
      return EXIT.ok;
    }
    const id = rest[0] ?? "";
    if (!(await store.revokeApiKey(id, Date.now()))) {
      io.err(`no API key with id ${id} in ${where} (see: cloister keys list)`);
      return EXIT.failed;
    }
    io.out(`revoked ${id}`);
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

function parse(args: string[]) {
  const r = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { name: { type: "string" }, "data-dir": { type: "string" }, store: { type: "string" }, help: { type: "boolean", short: "h" } },
  });
  if (r.positionals.length > 2) throw new ConfigError("USAGE", "too many arguments");
  return r;
}
