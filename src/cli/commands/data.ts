/**
 * `cloister data <scrub|up|contribute>`: private data contributions (src/data).
 *   data scrub [FILE|-] [--json]   the pipeline's cleaner, locally, on JSON lines {"text": ...}
 */
import { createReadStream } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { isCloisterError } from "../../errors.js";
import { jsonLines, scrubLine } from "../../data/scrub.js";
import { EXIT, type CliIO } from "../io.js";

const USAGE = `usage: cloister data <command> [options]

  data scrub [FILE|-] [--json]   clean JSON lines {"text": ...} with the pipeline's exact cleaner;
                                 prints the cleaned text per line, or with --json
                                 {"text", "spans": [{start, end, type}], "rejected", "risk"}
                                 (spans in the original text)`;

export async function dataCommand(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "scrub") return scrub(rest, io);
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
    parsed = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
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
  try {
    for await (const { line, no } of jsonLines(input as AsyncIterable<Uint8Array>)) {
      try {
        const r = scrubLine(line, no);
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
  }
  return failed ? EXIT.failed : EXIT.ok;
}
