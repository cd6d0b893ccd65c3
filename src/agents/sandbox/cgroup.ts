/**
 * One cgroup per run, with memory (swap included), pid and CPU-bandwidth limits. Both
 * hierarchies are handled: v2 (one unified tree, `memory.max`, `pids.max`, `cpu.max`)
 * and v1 (one tree per controller, `memory.limit_in_bytes`, `memory.memsw.*`,
 * `pids.max`, `cpu.cfs_quota_us`) — this machine has v1. The sandbox is put into the
 * cgroup by its launcher shell before it execs bubblewrap (no window in which a fork
 * bomb could escape), so this file only creates, reads and removes.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync, accessSync, constants } from "node:fs";
import { join } from "node:path";

export type CgroupVersion = "v1" | "v2";

export interface CgroupLimits {
  readonly memoryBytes: number;
  readonly pids: number;
  /** CPU bandwidth in CPUs (1 = one core's worth per period). */
  readonly cpus: number;
}

export interface RunCgroup {
  /** Files the launcher writes its pid into. */
  readonly procsFiles: readonly string[];
  /** True when the memory limit was hit (OOM kill or failed charge). */
  memoryExceeded(): boolean;
  /** Peak memory in bytes, where the kernel reports it. */
  peakBytes(): number | null;
  /** Kills whatever is still in the cgroup and removes it. */
  destroy(): void;
}

const ROOT = "/sys/fs/cgroup";

export function detectCgroup(root = ROOT): { version: CgroupVersion; writable: boolean } | null {
  if (existsSync(join(root, "cgroup.controllers"))) return { version: "v2", writable: canWrite(root) };
  if (existsSync(join(root, "memory", "memory.limit_in_bytes")) && existsSync(join(root, "pids"))) {
    return { version: "v1", writable: canWrite(join(root, "memory")) && canWrite(join(root, "pids")) };
  }
  return null;
}

function canWrite(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function read(file: string): string | null {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return null;
  }
}

function killAll(dir: string): void {
  const procs = read(join(dir, "cgroup.procs"));
  for (const line of (procs ?? "").split("\n")) {
    const pid = Number(line);
    if (Number.isInteger(pid) && pid > 0) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
  }
}

function removeWhenEmpty(dir: string): void {
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch {
      killAll(dir);
      // Killed tasks leave the cgroup asynchronously; a short busy wait is bounded by 50 tries.
      const until = Date.now() + 2;
      while (Date.now() < until) {
        /* spin */
      }
    }
  }
}

export function createRunCgroup(name: string, limits: CgroupLimits, version: CgroupVersion, root = ROOT): RunCgroup {
  const period = 100_000;
  const quota = Math.max(1000, Math.round(limits.cpus * period));
  if (version === "v2") {
    const parent = join(root, "cloister");
    if (!existsSync(parent)) mkdirSync(parent);
    // Controllers must be enabled in each ancestor's subtree_control (cgroup v2 §"Enabling and Disabling").
    for (const dir of [root, parent]) {
      try {
        writeFileSync(join(dir, "cgroup.subtree_control"), "+memory +pids +cpu");
      } catch {
        /* already enabled or delegated read-only: the limit writes below fail loudly if it matters */
      }
    }
    const dir = join(parent, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "memory.max"), String(limits.memoryBytes));
    try {
      writeFileSync(join(dir, "memory.swap.max"), "0");
    } catch {
      /* no swap accounting: memory.max still bounds RAM */
    }
    writeFileSync(join(dir, "pids.max"), String(limits.pids));
    writeFileSync(join(dir, "cpu.max"), `${quota} ${period}`);
    return {
      procsFiles: [join(dir, "cgroup.procs")],
      memoryExceeded: () => /oom_kill [1-9]|max [1-9]/.test(read(join(dir, "memory.events")) ?? ""),
      peakBytes: () => Number(read(join(dir, "memory.peak")) ?? NaN) || null,
      destroy: () => {
        try {
          writeFileSync(join(dir, "cgroup.kill"), "1");
        } catch {
          killAll(dir);
        }
        removeWhenEmpty(dir);
      },
    };
  }
  const dirs: string[] = [];
  const make = (controller: string): string => {
    const parent = join(root, controller, "cloister");
    if (!existsSync(parent)) mkdirSync(parent);
    const dir = join(parent, name);
    mkdirSync(dir);
    dirs.push(dir);
    return dir;
  };
  const mem = make("memory");
  writeFileSync(join(mem, "memory.limit_in_bytes"), String(limits.memoryBytes));
  // Without the memsw limit a memory bomb would swap instead of dying.
  if (existsSync(join(mem, "memory.memsw.limit_in_bytes"))) writeFileSync(join(mem, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes));
  const pids = make("pids");
  writeFileSync(join(pids, "pids.max"), String(limits.pids));
  const cpuRoot = join(root, "cpu");
  let cpu: string | null = null;
  if (existsSync(join(cpuRoot, "cpu.cfs_quota_us"))) {
    cpu = make("cpu");
    writeFileSync(join(cpu, "cpu.cfs_period_us"), String(period));
    writeFileSync(join(cpu, "cpu.cfs_quota_us"), String(quota));
  }
  return {
    procsFiles: dirs.map((d) => join(d, "cgroup.procs")),
    memoryExceeded: () => Number(read(join(mem, "memory.failcnt")) ?? 0) > 0 || /oom_kill [1-9]/.test(read(join(mem, "memory.oom_control")) ?? ""),
    peakBytes: () => Number(read(join(mem, "memory.max_usage_in_bytes")) ?? NaN) || null,
    destroy: () => {
      for (const d of dirs) killAll(d);
      for (const d of dirs.reverse()) removeWhenEmpty(d);
    },
  };
}
