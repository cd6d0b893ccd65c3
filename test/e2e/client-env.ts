import { afterAll, beforeAll } from "vitest";
import { startRecordingProxy, startTestNode, type RecordingProxy, type TestNode } from "./client-fixtures.js";

/**
 * A test node behind a recording proxy for the whole test file (vitest hooks). The
 * fields are set in beforeAll: read them inside tests, not at module level.
 */
export function useNodeBehindProxy(opts: Parameters<typeof startTestNode>[0] = {}): { node: TestNode; proxy: RecordingProxy } {
  const env = {} as { node: TestNode; proxy: RecordingProxy };
  beforeAll(async () => {
    env.node = await startTestNode(opts);
    env.proxy = await startRecordingProxy(env.node.url);
  });
  afterAll(async () => {
    await env.proxy?.close();
    await env.node?.close();
  });
  return env;
}
