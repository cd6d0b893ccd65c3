/**
 * One cgroup per run, with memory (swap included), pid and CPU-bandwidth limits. Both
 * hierarchies are handled:
 *  - v2 (`/sys/fs/cgroup` is cgroup2fs): runs go under `<our cgroup>/cloister/`, with
 *    `memory.max`, `memory.swap.max`, `pids.max`, `cpu.max`. The controllers must be
 *    enabled in each ancestor's `cgroup.subtree_control`, which the kernel refuses
 *    (EBUSY, "no internal processes") while processes sit in that cgroup — so when the
 *    node lives in a non-root cgroup it moves itself into a `cloister-node` leaf first.
 *  - v1 (one tree per controller; this development machine): `memory.limit_in_bytes`,
 *    `memory.memsw.limit_in_bytes`, `pids.max`, `cpu.cfs_quota_us`.
 * The sandbox is put into the cgroup by its launcher shell before it execs bubblewrap (no
 * window in which a fork bomb could escape), so this file only creates, reads and removes.
 * `root` and `selfPath` are parameters so the layout is tested on a directory tree too.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, statfsSync, writeFileSync } from "node:fs";
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
  /** Kills whatever is still in the cgroup; removes it in the background (tasks leave asynchronously). */
  destroy(): void;
}

export interface CgroupFound {
  readonly version: CgroupVersion;
  readonly writable: boolean;
  /** Why it cannot be used, in words a user can act on (null when writable). */
  readonly problem: string | null;
}

const ROOT = "/sys/fs/cgroup";
const CGROUP2_MAGIC = 0x63677270;
const V2_CONTROLLERS = ["memory", "pids", "cpu"] as const;

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

/** Our own cgroup v2 path ("0::/x/y" in /proc/self/cgroup), "/" when unknown. */
export function selfCgroupV2(procSelfCgroup = read("/proc/self/cgroup") ?? ""): string {
  const line = procSelfCgroup.split("\n").find((l) => l.startsWith("0::"));
  const path = line?.slice(3).trim() ?? "/";
  return path.startsWith("/") && !path.includes("..") ? path : "/";
}

function isCgroup2(root: string): boolean {
  try {
    return statfsSync(root).type === CGROUP2_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Which hierarchy is usable here. v2 when `root` is a cgroup2 mount (or, for a tree that
 * is not a real mount, has cgroup.controllers), else v1 when memory and pids trees exist.
 */
export function detectCgroup(root = ROOT, selfPath = selfCgroupV2()): CgroupFound | null {
  if (isCgroup2(root) || existsSync(join(root, "cgroup.controllers"))) {
    const base = join(root, selfPath);
    const have = (read(join(base, "cgroup.controllers")) ?? "").split(/\s+/);
    const missing = V2_CONTROLLERS.filter((c) => !have.includes(c));
    if (missing.length) return { version: "v2", writable: false, problem: `cgroup v2 at ${base} does not offer the ${missing.join(", ")} controller(s) (enable them in the parent's cgroup.subtree_control, or delegate them: systemd Delegate=yes)` };
    if (!canWrite(base)) return { version: "v2", writable: false, problem: `cgroup v2 at ${base} is not writable by this process (run the node as root in its VM, or delegate a cgroup subtree to its user)` };
    return { version: "v2", writable: true, problem: null };
  }
  if (existsSync(join(root, "memory", "memory.limit_in_bytes")) && existsSync(join(root, "pids"))) {
    const writable = canWrite(join(root, "memory")) && canWrite(join(root, "pids"));
    return { version: "v1", writable, problem: writable ? null : `cgroup v1 at ${root}/memory and ${root}/pids is not writable by this process (run the node as root in its VM)` };
  }
  return null;
}

function killAll(dir: string): void {
  for (const line of (read(join(dir, "cgroup.procs")) ?? "").split("\n")) {
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

/** rmdir once the kernel has let the killed tasks go; retried off the caller's path. */
function removeWhenEmpty(dir: string, tries = 100): void {
  try {
    rmdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || tries <= 0) return;
    killAll(dir);
    // Kept referenced: a node shutting down waits the few ms for its last cgroups to go (bounded: 100 × 5 ms).
    setTimeout(() => removeWhenEmpty(dir, tries - 1), 5);
  }
}

/** "+memory +pids +cpu" into subtree_control; EBUSY means processes sit in `dir`. */
function enableControllers(dir: string): void {
  const have = (read(join(dir, "cgroup.subtree_control")) ?? "").split(/\s+/);
  const want = V2_CONTROLLERS.filter((c) => !have.includes(c));
  if (want.length) writeFileSync(join(dir, "cgroup.subtree_control"), want.map((c) => `+${c}`).join(" "));
}

const v2Parents = new Map<string, string>();

function v2Parent(root: string, selfPath: string): string {
  const base = join(root, selfPath);
  const known = v2Parents.get(base);
  if (known) return known;
  try {
    enableControllers(base);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EBUSY" || selfPath === "/") throw e;
    // No internal processes: move the node into a leaf of its own, then enable (cgroup-v2.rst).
    const leaf = join(base, "cloister-node");
    if (!existsSync(leaf)) mkdirSync(leaf);
    writeFileSync(join(leaf, "cgroup.procs"), String(process.pid));
    try {
      enableControllers(base);
    } catch (again) {
      throw new Error(`cgroup v2 at ${base}: cannot enable ${V2_CONTROLLERS.join(", ")} for child cgroups while other processes live in it; give the node its own delegated cgroup`, { cause: again });
    }
  }
  const parent = join(base, "cloister");
  if (!existsSync(parent)) mkdirSync(parent);
  enableControllers(parent);
  v2Parents.set(base, parent);
  return parent;
}

export function createRunCgroup(name: string, limits: CgroupLimits, version: CgroupVersion, root = ROOT, selfPath = selfCgroupV2()): RunCgroup {
  const period = 100_000;
  const quota = Math.max(1000, Math.round(limits.cpus * period));
  if (version === "v2") {
    const dir = join(v2Parent(root, selfPath), name);
    mkdirSync(dir);
    writeFileSync(join(dir, "memory.max"), String(limits.memoryBytes));
    // Without it a memory bomb swaps instead of dying; absent where the kernel has no swap accounting.
    if (existsSync(join(dir, "memory.swap.max"))) writeFileSync(join(dir, "memory.swap.max"), "0");
    writeFileSync(join(dir, "pids.max"), String(limits.pids));
    writeFileSync(join(dir, "cpu.max"), `${quota} ${period}`);
    return {
      procsFiles: [join(dir, "cgroup.procs")],
      memoryExceeded: () => /\b(oom_kill|max) [1-9]/.test(read(join(dir, "memory.events")) ?? ""),
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
  if (existsSync(join(root, "cpu", "cpu.cfs_quota_us"))) {
    const cpu = make("cpu");
    writeFileSync(join(cpu, "cpu.cfs_period_us"), String(period));
    writeFileSync(join(cpu, "cpu.cfs_quota_us"), String(quota));
  }
  return {
    procsFiles: dirs.map((d) => join(d, "cgroup.procs")),
    memoryExceeded: () => Number(read(join(mem, "memory.failcnt")) ?? 0) > 0 || /oom_kill [1-9]/.test(read(join(mem, "memory.oom_control")) ?? ""),
    peakBytes: () => Number(read(join(mem, "memory.max_usage_in_bytes")) ?? NaN) || null,
    destroy: () => {
      for (const d of dirs) killAll(d);
      for (const d of [...dirs].reverse()) removeWhenEmpty(d);
    },
  };
}
