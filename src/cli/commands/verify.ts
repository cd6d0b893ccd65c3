import { EXIT, type CliIO } from "../io.js";

// Placeholder until the owning work lands.
export async function verifyCommand(_args: string[], io: CliIO): Promise<number> {
  io.err("cloister verify: not implemented yet");
  return EXIT.usage;
}
