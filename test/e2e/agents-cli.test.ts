/**
 * The CLI walkthrough: `cloister agent init`, `publish`, `list`, `show`, `run` (with a met
 * and an unmet --require) against an in-process node with the hub, in the real sandbox.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Hub } from "../../src/agents/hub/hub.js";
import { openHubStore } from "../../src/agents/hub/store.js";
import { detectSandbox } from "../../src/agents/sandbox/detect.js";
import { main } from "../../src/cli/main.js";
import { ANSWER, startTestNode, type TestNode } from "./client-fixtures.js";

const support = detectSandbox();
const title = support.available ? "cloister agent CLI (real sandbox)" : `cloister agent CLI (skipped: ${support.reason})`;

async function cli(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), env, cwd });
  return { code, out, err };
}

describe.skipIf(!support.available)(title, () => {
  let node: TestNode;
  let hub: ReturnType<typeof openHubStore>;
  let work: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    hub = openHubStore();
    node = await startTestNode({ apiKey: true, agents: { hub: new Hub(hub) } });
    work = mkdtempSync(join(tmpdir(), "cloister-agent-cli-"));
    env = { CLOISTER_API_KEY: node.apiKey ?? "", CLOISTER_DATA_DIR: join(work, "home") };
  });
  afterAll(async () => {
    await node?.close();
    hub?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("init, publish, list, show, run with a verified receipt, and refuse an unmet --require", async () => {
    expect((await cli(["agent", "init", "sum", "--name", "sum", "--model", "fake"], env, work)).code).toBe(0);
    // Stands in for `npm install` in the agent's folder (no registry in tests).
    mkdirSync(join(work, "sum", "node_modules"));
    symlinkSync(resolve("node_modules/openai"), join(work, "sum", "node_modules", "openai"));
    const pub = await cli(["agent", "publish", "sum", "--url", node.url, "--json"], env, work);
    expect(pub.code, pub.err).toBe(0);
    expect(JSON.parse(pub.out)).toMatchObject({ name: "sum", version: "0.1.0" });
    expect(pub.err).toContain("made a developer key");

    const list = await cli(["agent", "list", "--url", node.url, "--json"], env, work);
    expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ name: "sum", version: "0.1.0" })]);
    const show = await cli(["agent", "show", "sum", "--url", node.url, "--json"], env, work);
    expect(JSON.parse(show.out)).toMatchObject({ name: "sum", manifest: { observability: "none" }, versions: [expect.objectContaining({ version: "0.1.0" })] });

    writeFileSync(join(work, "in.json"), JSON.stringify({ text: "private words" }));
    const run = await cli(["agent", "run", "sum", "--url", node.url, "--input", "in.json", "--allow-simulated", "--require", '{"egress":[],"observability":"none"}'], env, work);
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out)).toEqual({ summary: ANSWER });
    expect(run.err).toContain("scanner ");
    expect(run.err).toContain("receipt verified");

    const refused = await cli(["agent", "run", "sum", "--url", node.url, "--input", "in.json", "--allow-simulated", "--require", '{"egress":[],"observability":"none","bundle_sha256":"' + "0".repeat(64) + '"}'], env, work);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("AGENT_GUARANTEE_UNMET");
  });
});
