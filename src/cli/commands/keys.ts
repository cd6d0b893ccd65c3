import { EXIT, type CliIO } from "../io.js";

// Placeholder until the owning work lands.
export async function keysCommand(_args: string[], io: CliIO): Promise<number> {
  io.err("cloister keys: not implemented yet");
  return EXIT.usage;
}
