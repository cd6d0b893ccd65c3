/** OpenAI-style messages to node-llama-cpp chat history, ending in an open model turn. */
import type { ChatHistoryItem } from "node-llama-cpp";
import type { ChatMessage } from "../backend.js";

export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    if (m.role === "system") return { type: "system", text: m.content };
    if (m.role === "user") return { type: "user", text: m.content };
    return { type: "model", response: [m.content] };
  });
  // LlamaChat.generateResponse continues the last model turn; an empty one means
  // "answer now" (a trailing assistant message is continued, as OpenAI prefill does).
  const last = history[history.length - 1];
  if (last?.type !== "model") history.push({ type: "model", response: [] });
  return history;
}
