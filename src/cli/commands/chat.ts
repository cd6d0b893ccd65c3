import { EXIT, type CliIO } from "../io.js";

// Placeholder until the owning work lands.
export async function chatCommand(_args: string[], io: CliIO): Promise<number> {
  io.err("cloister chat: not implemented yet");
  return EXIT.usage;
}
