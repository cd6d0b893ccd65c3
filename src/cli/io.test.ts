import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ANSWER, ANSWER_WORDS, startTestNode, type TestNode } from "../../test/e2e/client-fixtures.js";
import { chatCommand } from "./commands/chat.js";
import { processIO, type CliIO } from "./io.js";

describe("processIO", () => {
  it("write() passes text to stdout as is (no newline), out() ends the line", () => {
    const spy = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      const io = processIO();
      io.write?.("tok");
      io.out("line");
      expect(spy.mock.calls.map((c) => c[0])).toEqual(["tok", "line\n"]);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("cloister chat through an IO with write()", () => {
  let node: TestNode;
  beforeAll(async () => void (node = await startTestNode()));
  afterAll(async () => node?.close());

  it("writes the answer token by token, then one newline", async () => {
    const writes: string[] = [];
    const out: string[] = [];
    const io: CliIO = { out: (t) => void out.push(t), err: () => {}, write: (t) => void writes.push(t), env: {}, cwd: process.cwd() };
    expect(await chatCommand(["--url", node.url, "--allow-simulated", "hello"], io)).toBe(0);
    expect(writes).toEqual([...ANSWER_WORDS, "\n"]);
    expect(writes.join("")).toBe(`${ANSWER}\n`);
    expect(out).toEqual([]);
  });
});
