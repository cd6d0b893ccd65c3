/** For tests: the SealError code a call throws, undefined when it does not throw. */
import { SealError } from "../../errors.js";

const codeOfError = (e: unknown): string => (e instanceof SealError ? e.code : `not a SealError: ${String(e)}`);

export function sealCodeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return codeOfError(e);
  }
  return undefined;
}

export async function sealCodeOfAsync(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return codeOfError(e);
  }
  return undefined;
}
