import { readFileSync } from "node:fs";
import { AttestationError } from "../../errors.js";
import { AttestCode } from "../codes.js";
import { parsePolicy, type Policy } from "./schema.js";

/** Reads and parses a policy file; POLICY_INVALID when it cannot be read or is wrong. */
export function loadPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new AttestationError(AttestCode.POLICY_INVALID, `policy file ${path} could not be read`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new AttestationError(AttestCode.POLICY_INVALID, `policy file ${path} is not JSON`, { cause });
  }
  return parsePolicy(json);
}
