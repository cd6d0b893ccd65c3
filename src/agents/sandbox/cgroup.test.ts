import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createRunCgroup, detectCgroup, selfCgroupV2 } from "./cgroup.js";
import { cgroupRefusal } from "./detect.js";

const MiB = 1024 * 1024;
let trees: string[] = [];
afterEach(() => {
  for (const t of trees) rmSync(t, { recursive: true, force: true });
  trees = [];
});

/** A directory shaped like a cgroup2 mount: the layout logic runs on it unchanged. */
function fakeV2(controllers: string): string {
  const root = mkdtempSync(join(tmpdir(), "cgroup2-"));
  trees.push(root);
  writeFileSync(join(root, "cgroup.controllers"), controllers);
  writeFileSync(join(root, "cgroup.subtree_control"), "");
  return root;
}

describe("cgroup v2 layout", () => {
  it("enables memory, pids and cpu down the tree and writes memory.max, pids.max, cpu.max for the run", () => {
    const root = fakeV2("cpuset cpu io memory hugetlb pids");
    expect(detectCgroup(root, "/")).toEqual({ version: "v2", writable: true, problem: null });
    mkdirSync(join(root, "cloister"));
    writeFileSync(join(root, "cloister", "cgroup.subtree_control"), "");
    const cg = createRunCgroup("run-a", { memoryBytes: 64 * MiB, pids: 16, cpus: 0.5 }, "v2", root, "/");
    expect(readFileSync(join(root, "cgroup.subtree_control"), "utf8")).toBe("+memory +pids +cpu");
    expect(readFileSync(join(root, "cloister", "cgroup.subtree_control"), "utf8")).toBe("+memory +pids +cpu");
    const dir = join(root, "cloister", "run-a");
    expect(readFileSync(join(dir, "memory.max"), "utf8")).toBe(String(64 * MiB));
    expect(readFileSync(join(dir, "pids.max"), "utf8")).toBe("16");
    expect(readFileSync(join(dir, "cpu.max"), "utf8")).toBe("50000 100000");
    expect(cg.procsFiles).toEqual([join(dir, "cgroup.procs")]);
    expect(cg.memoryExceeded()).toBe(false);
    writeFileSync(join(dir, "memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
    expect(cg.memoryExceeded()).toBe(true);
  });

  it("reads its own cgroup from /proc/self/cgroup and refuses a tree without the controllers, saying which", () => {
    expect(selfCgroupV2("0::/system.slice/cloister.service\n")).toBe("/system.slice/cloister.service");
    expect(selfCgroupV2("4:memory:/x\n0::/../../etc\n")).toBe("/");
    const root = fakeV2("cpu io");
    const found = detectCgroup(root, "/");
    expect(found?.writable).toBe(false);
    expect(cgroupRefusal(found)).toMatch(/does not offer the memory, pids controller/);
  });

  it("refuses with a clear message where there is no hierarchy at all", () => {
    const empty = mkdtempSync(join(tmpdir(), "no-cgroup-"));
    trees.push(empty);
    expect(detectCgroup(empty, "/")).toBeNull();
    expect(cgroupRefusal(null)).toMatch(/neither cgroup v2 .* nor v1/);
    expect(cgroupRefusal({ version: "v1", writable: false, problem: null })).toMatch(/not writable/);
  });
});

// The real hierarchy of this machine, whichever it is (v1 here; v2 where the kernel mounts it).
const real = detectCgroup();
describe.skipIf(!real?.writable)(`cgroup on this machine (${real?.version ?? "none"}${real?.writable ? "" : ", skipped: not writable"})`, () => {
  it("creates a run cgroup whose limits the kernel reports back, and removes it", async () => {
    const name = `run-test-${process.pid}`;
    const cg = createRunCgroup(name, { memoryBytes: 48 * MiB, pids: 12, cpus: 1 }, real?.version ?? "v1");
    const dir = (cg.procsFiles[0] ?? "").replace(/\/cgroup\.procs$/, "");
    if (real?.version === "v2") {
      expect(readFileSync(join(dir, "memory.max"), "utf8").trim()).toBe(String(48 * MiB));
      expect(readFileSync(join(dir, "pids.max"), "utf8").trim()).toBe("12");
      expect(readFileSync(join(dir, "cpu.max"), "utf8").trim()).toBe("100000 100000");
    } else {
      expect(readFileSync(join(dir, "memory.limit_in_bytes"), "utf8").trim()).toBe(String(48 * MiB));
      const pids = cg.procsFiles.find((f) => f.includes("/pids/")) ?? "";
      expect(readFileSync(pids.replace(/cgroup\.procs$/, "pids.max"), "utf8").trim()).toBe("12");
    }
    cg.destroy();
    await new Promise((r) => setTimeout(r, 50));
    for (const f of cg.procsFiles) expect(() => readFileSync(f)).toThrow();
  });
});
