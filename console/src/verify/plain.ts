/**
 * Each check of a verification as one sentence someone who has never heard of a quote can
 * read: what was established when it passed, what it means when it failed, and what an
 * unchecked item leaves open. The technical detail stays one click away (raw evidence).
 */
import type { Check } from "../../../src/attest/types.js";

export type Mark = "pass" | "fail" | "open";

export interface PlainLine {
  readonly mark: Mark;
  readonly title: string;
  /** Why it matters (pass) or what failed (fail) or what it leaves open (open). */
  readonly sentence: string;
  readonly check: Check;
}

interface Words {
  readonly title: string;
  readonly pass: string;
  readonly fail: string;
  readonly open?: string;
}

const WORDS: Readonly<Record<string, Words>> = {
  "report parses": { title: "The node answered with an attestation report", pass: "It is in Cloister's report format, so every claim below can be checked.", fail: "What the node sent is not a readable attestation report: nothing it claims can be checked." },
  nonce: { title: "The report is fresh", pass: "It answers the random challenge this browser just made up, so it is not a recording of an old report.", fail: "The report answers someone else's challenge: it may be a replay of an old report." },
  "quote parses": { title: "The hardware's signed statement (quote) is readable", pass: "The processor's signed statement about this machine could be read.", fail: "The processor's signed statement is damaged or missing." },
  "PCK certificate chain": { title: "The processor's certificate comes from Intel", pass: "The key that signed this report belongs to a processor certified by Intel's root (or the SIMULATED root, see the banner).", fail: "The processor's certificate does not lead to Intel: the report could have been made by anyone." },
  "QE report signature": { title: "Intel's quoting enclave signed its part", pass: "The processor's certified key vouches for the quoting enclave.", fail: "The quoting enclave's statement is not signed by the certified processor key." },
  "QE report binds the attestation key": { title: "The signing key was issued inside the processor", pass: "The key that signed the quote is the one the quoting enclave vouched for.", fail: "The key that signed the quote is not the one the processor vouched for." },
  "quote signature": { title: "The hardware's statement is intact", pass: "Nothing in the measured values or the bound keys was changed after the processor signed them.", fail: "The hardware's statement was changed after it was signed: someone tampered with it." },
  "QE is Intel's quoting enclave": { title: "The quote was made by Intel's own quoting software", pass: "The enclave that produced the quote is signed by Intel.", fail: "The quote was made by an enclave Intel did not sign." },
  "not debuggable": { title: "The machine is not in debug mode", pass: "In debug mode the host could read the memory; it is off.", fail: "The machine runs in debug mode: the host can read everything inside it." },
  "not simulated": { title: "Real hardware", pass: "The evidence is not from the simulator.", fail: "This report comes from the Cloister SIMULATOR: it proves nothing about hardware or privacy." },
  "hardware root": { title: "Real hardware", pass: "", fail: "", open: "You accepted the SIMULATOR: this report proves nothing about hardware or privacy." },
  "TCB status": { title: "Security patches of the processor", pass: "The processor's firmware is up to date, according to Intel's signed data.", fail: "The processor's firmware is out of date or revoked.", open: "Whether the processor has its latest security patches was not checked in this browser (Intel's signed TCB data is not evaluated here yet)." },
  "unchecked: tcb": { title: "Your choice about the patch level", pass: "", fail: "The processor's patch level could not be established, and you have not accepted that: refusing.", open: "You accepted that the processor's patch level is not established: an out-of-date machine would look the same." },
  "report_data field": { title: "The report shows what the hardware signed", pass: "", fail: "The report's copy of the signed data differs from what the hardware signed." },
  "signing address": { title: "The answer-signing key is the one shown", pass: "The address that signs every answer is derived from the public key in the report.", fail: "The signing address does not belong to the key in the report." },
  "report_data binding (v1)": { title: "The node's keys were vouched for by the hardware", pass: "The key that signs answers and the key your messages are encrypted to were created inside this machine and bound into its signed statement: only this machine can read your prompts or sign its answers.", fail: "The keys this node gives you are not the ones the hardware vouched for: someone between you and the node may have swapped them to read your messages. Do not send anything." },
  "event log digests": { title: "The boot record is consistent", pass: "Every recorded software event matches its content.", fail: "The record of what was loaded at boot has been altered." },
  "RTMR0 replay": { title: "Firmware measurement", pass: "The firmware the machine booted matches its record.", fail: "The firmware record does not match what the hardware measured.", open: "The firmware record was not included, so it could not be replayed." },
  "RTMR1 replay": { title: "Operating-system kernel measurement", pass: "The kernel the machine booted matches its record.", fail: "The kernel record does not match what the hardware measured.", open: "The kernel record was not included, so it could not be replayed." },
  "RTMR2 replay": { title: "Boot configuration measurement", pass: "The boot configuration matches its record.", fail: "The boot configuration record does not match what the hardware measured.", open: "The boot configuration record was not included, so it could not be replayed." },
  "RTMR3 replay": { title: "The application's identity was measured", pass: "What the node says it runs is exactly what the hardware measured at start.", fail: "What the node says it runs is not what the hardware measured." },
  "app identity events": { title: "The application's identity was recorded once", pass: "No later event could override the measured identity.", fail: "The identity was recorded twice: a later record could override the measured one." },
  "compose hash": { title: "The software configuration is the measured one", pass: "The configuration shown is exactly the one the hardware measured.", fail: "The configuration shown is not the one the hardware measured.", open: "The software configuration was not measured." },
  "app manifest (models) in RTMR3": { title: "The models are the measured ones", pass: "The model names and file hashes shown were measured by the hardware.", fail: "The model names or hashes shown are not the measured ones.", open: "The model list is the node's word only: it was not measured by the hardware." },
  GPU: { title: "GPU", pass: "", fail: "", open: "This node reports no GPU: inference runs on the confidential CPU." },
  "unchecked: gpu-rim": { title: "Your choice about the GPU's reference values", pass: "", fail: "The GPU's firmware and driver were not compared with NVIDIA's signed reference values, and you have not accepted that: refusing.", open: "You accepted that the GPU's firmware and driver are not compared with NVIDIA's reference values here." },
  "unchecked: gpu-ocsp": { title: "Your choice about GPU certificate revocation", pass: "", fail: "Whether the GPU's certificates were revoked was not checked, and you have not accepted that: refusing.", open: "You accepted that GPU certificate revocation is not checked here." },
  "hardware evidence": { title: "Hardware evidence", pass: "", fail: "The report carries no hardware evidence this browser can check." },
};

/** GPU lines are "GPU: <check>" or "GPU: gpu<i>: <check>"; one GPU's words serve every GPU. */
const GPU_WORDS: Readonly<Record<string, Words>> = {
  "payload parses": { title: "The GPU evidence is readable", pass: "The GPU's signed measurements could be read.", fail: "The GPU evidence is damaged." },
  "payload nonce": { title: "The GPU evidence is fresh", pass: "It answers this browser's challenge.", fail: "The GPU evidence answers someone else's challenge: it may be a replay." },
  "evidence decodes": { title: "The GPU evidence is readable", pass: "", fail: "A GPU's certificate or evidence could not be decoded." },
  "SPDM evidence parses": { title: "The GPU's measurements are readable", pass: "The GPU's signed measurement blocks could be read.", fail: "A GPU's signed measurements are damaged." },
  "device certificate chain": { title: "The GPU's certificate comes from NVIDIA", pass: "The GPU's identity key is certified by NVIDIA's device root (or the SIMULATED GPU root, see the banner).", fail: "The GPU's certificate does not lead to NVIDIA: it could be any device." },
  "SPDM signature (ECDSA P-384, SHA-384)": { title: "The GPU signed its measurements", pass: "Its firmware and configuration measurements are signed by its certified key, and bound to this CPU report.", fail: "The GPU's measurements are not signed by its key: they were changed." },
  nonce: { title: "The GPU answered this challenge", pass: "The GPU's signed answer carries the challenge.", fail: "The GPU's signed answer carries another challenge." },
  "not simulated": { title: "Real GPU", pass: "", fail: "The GPU evidence comes from the SIMULATOR: it proves nothing." },
  "reference measurements (RIM)": { title: "The GPU's firmware is a known NVIDIA release", pass: "Matches NVIDIA's signed reference values.", fail: "", open: "Not compared with NVIDIA's signed reference values in this browser yet." },
  "certificate revocation (OCSP)": { title: "The GPU's certificates are not revoked", pass: "", fail: "", open: "Revocation is not checked in this browser yet." },
};

function wordsFor(name: string): Words | undefined {
  if (!name.startsWith("GPU: ")) return WORDS[name];
  return GPU_WORDS[name.slice(5).replace(/^gpu\d+: /, "")];
}

const SIMULATED_CHAIN: Words = {
  title: "The processor's certificate comes from the SIMULATED root",
  pass: "The chain is sound, but it ends at the Cloister simulator's published test root, not Intel's: anyone can make such a report.",
  fail: "",
};

export function plainLine(c: Check): PlainLine {
  const w = c.name === "PCK certificate chain" && c.ok && /SIMULATED/.test(c.detail ?? "") ? SIMULATED_CHAIN : wordsFor(c.name);
  const mark: Mark = c.ok ? "pass" : c.skipped ? "open" : "fail";
  const title = w?.title ?? c.name;
  const sentence = (mark === "pass" ? w?.pass : mark === "fail" ? w?.fail : w?.open) || c.detail || (mark === "pass" ? "Checked." : "Not established.");
  return { mark, title, sentence, check: c };
}
