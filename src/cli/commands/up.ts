import { EXIT, type CliIO } from "../io.js";

// Placeholder until the owning work lands.
export async function upCommand(_args: string[], io: CliIO): Promise<number> {
  io.err("cloister up: not implemented yet");
  return EXIT.usage;
}
