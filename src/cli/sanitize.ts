/**
 * Terminal safety for text that came from somewhere else (a node's answers, error bodies,
 * report fields): control characters are removed before anything is printed, so a
 * hostile node or proxy cannot move the cursor, erase the line that says verification
 * failed (`ESC[2K\r`), and paint its own "✓ verified" over it (issue 7 item 10).
 *
 * Removed: C0 controls except newline and tab (so ESC, CR, BS, BEL…), DEL, C1 controls
 * (U+0080–U+009F, which include the 8-bit CSI U+009B), and the Unicode bidirectional
 * overrides and isolates that reorder what is shown (CVE-2021-42574, "Trojan Source").
 * Character by character, so it is safe on a stream split anywhere: dropping ESC alone
 * leaves the rest of a sequence ("[2K") as harmless visible text.
 */
import type { CliIO } from "./io.js";

const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function stripControl(text: string): string {
  return text.replace(UNSAFE, "");
}

/** The same IO with every printed string stripped: for commands that print what a remote node sent. */
export function sanitizedIO(io: CliIO): CliIO {
  return {
    ...io,
    out: (t) => io.out(stripControl(t)),
    err: (t) => io.err(stripControl(t)),
    ...(io.write ? { write: (t: string) => io.write?.(stripControl(t)) } : {}),
  };
}
