/**
 * OpenAI-style messages to node-llama-cpp chat history, ending in an open model turn.
 * An assistant turn with tool_calls becomes one model item holding the calls, each with
 * the result of the `tool` message that answers it (matched by tool_call_id); the
 * assistant text that follows those results continues the same model item, which is how
 * node-llama-cpp's chat wrappers render a call, its result and the answer.
 */
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from "node-llama-cpp";
import type { ChatMessage } from "../backend.js";
import { jsonDepth } from "../../util/json-depth.js";

/** Deeper arguments or results are rendered as their text: the chat wrappers re-serialise parsed values recursively (a RangeError past ~4,000 levels). */
const MAX_PARSED_DEPTH = 256;

function parseArgs(text: string): unknown {
  try {
    const v: unknown = JSON.parse(text);
    return jsonDepth(v, MAX_PARSED_DEPTH) > MAX_PARSED_DEPTH ? text : v;
  } catch {
    return text; // rendered as given: the model wrote it that way
  }
}

export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  const calls = new Map<string, ChatModelFunctionCall>();
  const lastModel = (): ChatModelResponse | null => {
    const last = history[history.length - 1];
    return last?.type === "model" ? last : null;
  };
  for (const m of messages) {
    if (m.role === "system") history.push({ type: "system", text: m.content });
    else if (m.role === "user") history.push({ type: "user", text: m.content });
    else if (m.role === "tool") {
      const call = m.toolCallId === undefined ? undefined : calls.get(m.toolCallId);
      // The gateway checked that every tool message answers an earlier call.
      if (call) call.result = parseArgs(m.content);
    } else {
      // After tool results the answer continues the model item that made the calls.
      const open = lastModel();
      const item: ChatModelResponse = open && open.response.some((r) => typeof r === "object" && r.type === "functionCall") ? open : { type: "model", response: [] };
      if (item !== open) history.push(item);
      if (m.content) item.response.push(m.content);
      for (const [i, tc] of (m.toolCalls ?? []).entries()) {
        const call: ChatModelFunctionCall = { type: "functionCall", name: tc.name, params: parseArgs(tc.arguments), result: "", ...(i === 0 ? { startsNewChunk: true } : {}) };
        calls.set(tc.id, call);
        item.response.push(call);
      }
    }
  }
  // LlamaChat.generateResponse continues the last model turn; an empty one means
  // "answer now" (a trailing assistant message is continued, as OpenAI prefill does, and
  // a turn ending in tool results is answered).
  if (history[history.length - 1]?.type !== "model") history.push({ type: "model", response: [] });
  return history;
}
