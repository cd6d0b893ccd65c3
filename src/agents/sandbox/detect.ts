/**
 * Is a real sandbox available here? bubblewrap on PATH, user namespaces that actually
 * work (a trial `bwrap --unshare-all true`: sysctls and LSMs can forbid them even where
 * the binary exists) and a writable cgroup hierarchy. The answer is cached per process.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { detectCgroup, type CgroupFound, type CgroupVersion } from "./cgroup.js";
import { seccompProgram } from "./seccomp.js";

export interface SandboxSupport {
  readonly available: boolean;
  /** Why not, in words a user can act on. */
  readonly reason: string | null;
  readonly bwrap: string | null;
  readonly cgroup: CgroupVersion | null;
  readonly seccomp: boolean;
  /** Root drops to uid 65534 on the host side too (setpriv), not only inside the namespace. */
  readonly dropHostUid: boolean;
}

let cached: SandboxSupport | null = null;

function which(cmd: string): string | null {
  for (const dir of ["/usr/bin", "/bin", "/usr/local/bin", "/usr/sbin"]) if (existsSync(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  return null;
}

/** Why the cgroup found (or not found) cannot hold a run, or null when it can. */
export function cgroupRefusal(cg: CgroupFound | null): string | null {
  if (!cg) return "no usable cgroup hierarchy at /sys/fs/cgroup: neither cgroup v2 (cgroup2fs) nor v1 memory and pids trees (the memory, pid and CPU limits of a run need one)";
  if (!cg.writable) return cg.problem ?? `cgroup ${cg.version} at /sys/fs/cgroup is not writable by this process`;
  return null;
}

export function detectSandbox(): SandboxSupport {
  if (cached) return cached;
  const bwrap = which("bwrap");
  const cg = detectCgroup();
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const base = { bwrap, cgroup: cg?.writable ? cg.version : null, seccomp: seccompProgram() !== null, dropHostUid: isRoot && which("setpriv") !== null };
  if (!bwrap) return (cached = { ...base, available: false, reason: "bubblewrap (bwrap) is not installed: apt-get install bubblewrap" });
  const trial = spawnSync(bwrap, ["--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64", "/usr/bin/true"], { timeout: 5000, stdio: "ignore" });
  if (trial.status !== 0) return (cached = { ...base, available: false, reason: "bubblewrap cannot create namespaces here (user namespaces disabled? check kernel.unprivileged_userns_clone / user.max_user_namespaces)" });
  const refusal = cgroupRefusal(cg);
  if (refusal) return (cached = { ...base, available: false, reason: refusal });
  return (cached = { ...base, available: true, reason: null });
}
