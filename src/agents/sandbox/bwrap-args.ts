/**
 * The bubblewrap command line for one run (pure). Every namespace is new (`--unshare-all`:
 * the network namespace has only a loopback, so there is no route out), the uid is 65534,
 * the system is read-only and only /usr is visible of it (no /etc, /home, /work, /var:
 * not the node's keys, data dir or database), the bundle and the bridge are read-only,
 * /tmp is a private size-capped tmpfs (charged to the run's memory cgroup), the
 * environment is cleared and rebuilt from scratch, and the directory of the egress
 * proxy's socket is bound in read-only. The process it starts is the zygote
 * (zygote-source.ts), which imports the agent when its run is handed over.
 */
export interface BwrapPlan {
  readonly bundleDir: string;
  readonly runtimeDir: string;
  /** Directory the egress proxy's socket appears in (it may be created after the sandbox starts). */
  readonly socketDir: string;
  readonly nodeBinary: string;
  readonly tmpBytes: number;
  /** V8 heap cap, below the cgroup limit so a plain allocation bomb ends as a clean OOM error. */
  readonly heapMb: number;
  readonly seccompFd: number | null;
  readonly env: Readonly<Record<string, string>>;
}

export const SANDBOX_SOCKET_DIR = "/run/cloister";
export const SANDBOX_SOCKET = `${SANDBOX_SOCKET_DIR}/egress.sock`;
/** Name of the socket inside `socketDir`. */
export const SOCKET_NAME = "egress.sock";
/** The launcher's control socket inside the sandbox (zygote-source.ts). */
export const CONTROL_FD = 3;

export function bwrapArgs(p: BwrapPlan): string[] {
  const args = [
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--die-with-parent",
    "--new-session",
    "--clearenv",
    "--cap-drop",
    "ALL",
    "--uid",
    "65534",
    "--gid",
    "65534",
    "--hostname",
    "agent",
    "--ro-bind",
    "/usr",
    "/usr",
    "--symlink",
    "usr/lib",
    "/lib",
    "--symlink",
    "usr/lib64",
    "/lib64",
    "--symlink",
    "usr/bin",
    "/bin",
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--size",
    String(p.tmpBytes),
    "--tmpfs",
    "/tmp",
    "--ro-bind",
    p.bundleDir,
    "/agent",
    "--ro-bind",
    p.runtimeDir,
    "/cloister",
    // Read-only: the agent can connect to the socket (connect(2) on a socket ignores the mount's ro flag) but create nothing.
    "--ro-bind",
    p.socketDir,
    SANDBOX_SOCKET_DIR,
    "--chdir",
    "/tmp",
  ];
  const nodeInside = p.nodeBinary.startsWith("/usr/") ? p.nodeBinary : "/cloister-node";
  if (nodeInside !== p.nodeBinary) args.push("--ro-bind", p.nodeBinary, nodeInside);
  for (const [k, v] of Object.entries(p.env)) args.push("--setenv", k, v);
  if (p.seccompFd !== null) args.push("--seccomp", String(p.seccompFd));
  args.push(nodeInside, "--no-warnings", `--max-old-space-size=${p.heapMb}`, "--import", "file:///cloister/bridge.mjs", "/cloister/zygote.mjs");
  return args;
}
