import { isCloisterError } from "../errors.js";
import { EXIT, processIO, type CliIO, type Command } from "./io.js";

/** Commands load lazily so `cloister verify` never pays for llama.cpp. */
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  verify: { summary: "verify attestation evidence, a report, or a live node", load: async () => (await import("./commands/verify.js")).verifyCommand },
  up: { summary: "start a private inference node", load: async () => (await import("./commands/up.js")).upCommand },
  keys: { summary: "create, list and revoke API keys", load: async () => (await import("./commands/keys.js")).keysCommand },
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
  try {
    const run = await entry.load();
    return await run(rest, io);
  } catch (err) {
    // Commands handle their own failures; this is the last guard against a stack trace.
    const msg = isCloisterError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    io.err(`cloister ${name}: ${msg}`);
    return isCloisterError(err) && err.name === "ConfigError" ? EXIT.usage : EXIT.failed;
  }
}
