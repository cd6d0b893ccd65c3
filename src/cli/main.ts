import { isCloisterError } from "../errors.js";
import { EXIT, processIO, type CliIO, type Command } from "./io.js";
import { sanitizedIO } from "./sanitize.js";

/** Commands that print what a remote node or proxy sent: their output is stripped of control sequences. */
const REMOTE_OUTPUT = new Set(["chat", "verify"]);

/** Commands load lazily so `cloister verify` never pays for llama.cpp. */
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  verify: { summary: "verify attestation evidence, a report, or a live node", load: async () => (await import("./commands/verify.js")).verifyCommand },
  up: { summary: "start a private inference node", load: async () => (await import("./commands/up.js")).upCommand },
  keys: { summary: "create, list and revoke API keys", load: async () => (await import("./commands/keys.js")).keysCommand },
  log: { summary: "keep and check a release log (signed statements in a Merkle log)", load: async () => (await import("./commands/log.js")).logCommand },
  relay: { summary: "run an OHTTP relay in front of a node (unlinks who from what)", load: async () => (await import("./commands/relay.js")).relayCommand },
  chain: { summary: "start a local market chain (anvil) with the contracts deployed", load: async () => (await import("./commands/chain.js")).chainCommand },
  escrow: { summary: "deposit, sign spend permits, check balances, withdraw, claim", load: async () => (await import("./commands/escrow.js")).escrowCommand },
  nodes: { summary: "list registered nodes (a hint: clients attest each one)", load: async () => (await import("./commands/nodes.js")).nodesCommand },
  settle: { summary: "settle this node's market receipts in one batch transaction", load: async () => (await import("./commands/settle.js")).settleCommand },
  data: { summary: "private data contributions: scrub, up, contribute, pool, claim, key upload", load: async () => (await import("./commands/data.js")).dataCommand },
  model: { summary: "seal, inspect and register a model; upload its key shares to brokers", load: async () => (await import("./commands/model.js")).modelCommand },
  kms: { summary: "run a key broker for sealed models (kms up)", load: async () => (await import("./commands/kms.js")).kmsCommand },
  chat: { summary: "chat with a node through the verifying, encrypting client", load: async () => (await import("./commands/chat.js")).chatCommand },
  agent: { summary: "publish, list, show and run sandboxed agents on a node's hub", load: async () => (await import("./commands/agent.js")).agentCommand },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return ["usage: cloister <command> [options]", "", ...lines, "", "Run `cloister <command> --help` for a command's options."].join("\n");
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(usage());
    return name ? EXIT.ok : EXIT.usage;
  }
  const entry = commands[name];
  if (!entry) {
    io.err(`unknown command: ${name}\n\n${usage()}`);
    return EXIT.usage;
  }
  const cmdIO = REMOTE_OUTPUT.has(name) ? sanitizedIO(io) : io;
  try {
    const run = await entry.load();
    return await run(rest, cmdIO);
  } catch (err) {
    // Commands handle their own failures; this is the last guard against a stack trace.
    const msg = isCloisterError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    cmdIO.err(`cloister ${name}: ${msg}`);
    return isCloisterError(err) && err.name === "ConfigError" ? EXIT.usage : EXIT.failed;
  }
}
