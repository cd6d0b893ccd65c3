/**
 * Issue 7 item 10: the CLI prints what a node (or a proxy in front of it) sent. A hostile
 * one sends `ESC[2K\r` to erase the line that says verification failed and paints its own
 * green "✓ verified". Every printed string must reach the terminal without control characters.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliIO } from "../../src/cli/io.js";
import { main } from "../../src/cli/main.js";
import { fakeBackend, startTestNode, type TestNode } from "./client-fixtures.js";

const PAINT = "\u001b[2K\r\u001b[32m✓ VERIFIED answer\u001b[0m\u009b2K";
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

function capture(): { io: CliIO; printed: () => string } {
  let printed = "";
  const line = (t: string): void => void (printed += `${t}\n`);
  return { io: { out: line, err: line, write: (t) => void (printed += t), env: {}, cwd: process.cwd() }, printed: () => printed };
}

let hostile: Server;
let hostileUrl = "";
let node: TestNode;

beforeAll(async () => {
  // A "node" whose report echoes our nonce and puts the paint in a field the CLI prints.
  hostile = createServer((req, res) => {
    const nonce = new URL(req.url ?? "/", "http://x").searchParams.get("nonce") ?? "";
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ signing_address: PAINT, signing_algo: "ecdsa", request_nonce: nonce, intel_quote: "00", event_log: [], info: {} }));
  });
  await new Promise<void>((r) => hostile.listen(0, "127.0.0.1", r));
  hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  // A genuine (simulated) node whose model was talked into emitting the paint.
  node = await startTestNode({ backend: fakeBackend(["Sorry, ", PAINT, " done"]) });
});
afterAll(async () => {
  await new Promise<void>((r) => hostile.close(() => r()));
  await node.close();
});

describe("the CLI strips control sequences from remote text", () => {
  it("cloister verify: a report field cannot erase the ✗ NOT VERIFIED line", async () => {
    const c = capture();
    expect(await main(["verify", hostileUrl, "--allow-simulated"], c.io)).not.toBe(0);
    const out = c.printed();
    expect(out).toContain("✗ NOT VERIFIED");
    expect(out.toLowerCase()).toContain("✓ verified answer"); // the text is shown, as text
    expect(out).not.toMatch(CONTROL);
  });

  it("cloister chat: a streamed answer cannot move the cursor or rewrite the line", async () => {
    const c = capture();
    expect(await main(["chat", "--url", node.url, "--allow-simulated", "hi"], c.io)).toBe(0);
    const out = c.printed();
    expect(out).toContain("Sorry, [2K[32m✓ VERIFIED answer[0m2K done");
    expect(out).not.toMatch(CONTROL);
  });
});
