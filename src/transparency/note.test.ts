import { describe, expect, it } from "vitest";
import { fromBase64 } from "./base64.js";
import { formatCheckpoint, openCheckpoint, parseCheckpointText, signCheckpoint } from "./checkpoint.js";
import { TransparencyCode } from "./errors.js";
import { leafHash } from "./merkle.js";
import { encodeVerifierKey, noteSigner, openNote, parseVerifierKey, signNote } from "./note.js";

// golang.org/x/mod/sumdb/note's documented example (C2SP signed-note): another
// implementation's key, text and signature, used as data.
const GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_SEED = (fromBase64("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz") as Uint8Array).slice(1);
const GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

describe("signed notes (C2SP signed-note)", () => {
  it("signs Go's example note byte for byte and derives its verifier key", () => {
    const signer = noteSigner("PeterNeumann", GO_SEED);
    expect(encodeVerifierKey(signer)).toBe(GO_VKEY);
    expect(signNote(GO_TEXT, [signer])).toBe(GO_NOTE);
  });

  it("opens Go's note with its verifier key and refuses an altered text or another key", () => {
    const v = parseVerifierKey(GO_VKEY);
    expect(openNote(GO_NOTE, v).text).toBe(GO_TEXT);
    expect(() => openNote(GO_NOTE.replace("answer", "Answer"), v)).toThrow(expect.objectContaining({ code: TransparencyCode.CHECKPOINT_SIGNATURE_INVALID }));
    const other = noteSigner("PeterNeumann", new Uint8Array(32).fill(7));
    expect(() => openNote(GO_NOTE, other)).toThrow(expect.objectContaining({ code: TransparencyCode.CHECKPOINT_SIGNATURE_INVALID }));
  });

  it("parses a verifier key whose base64 contains '+' (transparency-dev/formats' TEST key)", () => {
    expect(parseVerifierKey("TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6").name).toBe("TEST");
  });

  it("refuses a verifier key whose id does not match its key", () => {
    expect(() => parseVerifierKey(GO_VKEY.replace("c74f20a3", "c74f20a4"))).toThrow(expect.objectContaining({ code: TransparencyCode.NOTE_INVALID }));
  });

  it("keeps a checkpoint's origin, size and root through signing, and refuses another log's", () => {
    const signer = noteSigner("example.com/log", new Uint8Array(32).fill(1));
    const cp = { origin: "example.com/log", size: 42, root: leafHash(new Uint8Array([1])), extensions: [] };
    const note = signCheckpoint(cp, [signer]);
    expect(openCheckpoint(note, signer)).toEqual(cp);
    expect(() => openCheckpoint(note, signer, "example.com/other")).toThrow(expect.objectContaining({ code: TransparencyCode.CHECKPOINT_INVALID }));
    expect(() => parseCheckpointText(formatCheckpoint(cp).replace("42", "042"))).toThrow(expect.objectContaining({ code: TransparencyCode.CHECKPOINT_INVALID }));
  });
});
