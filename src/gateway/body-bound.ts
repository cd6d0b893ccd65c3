/**
 * The largest completion body worth reading, from the backend's prompt bound
 * (src/inference/llama/input-bounds.ts): a prompt of `maxPromptBytes` UTF-8 bytes is at
 * most 6× that as JSON (`\u00XX` escapes), plus room for the other fields (a 16 KiB
 * schema, four 1 KiB stop sequences, messages' framing, an E2E envelope's 16-byte tag).
 * A larger body can only be refused later, after costing the event loop its UTF-8 check,
 * JSON parse and hash (~60 ms per 4 MiB here), so it is refused from Content-Length (413)
 * before a byte of it is read. Embeddings keep the node's general limit (2048 inputs).
 */
export const BODY_SLACK_BYTES = 64 * 1024;

export function completionBodyLimit(maxBodyBytes: number, maxPromptBytes: number | undefined): number {
  if (maxPromptBytes === undefined) return maxBodyBytes;
  return Math.min(maxBodyBytes, 6 * maxPromptBytes + BODY_SLACK_BYTES);
}
