/**
 * A classic-BPF seccomp filter (seccomp(2), linux/filter.h) handed to bubblewrap with
 * `--seccomp FD`. It is a deny list on top of the namespaces: the calls that let a
 * process reconfigure the kernel's view of it (mount, namespaces, ptrace of siblings,
 * BPF, keyrings, perf, userfaultfd, io_uring, module loading) fail with EPERM, and any
 * other architecture or the x32 ABI is killed (so numbers below cannot be aliased).
 * Only x86_64 numbers are listed; elsewhere `seccompProgram` returns null and the
 * namespaces and cgroups stand alone (said so in the run's sandbox report).
 */
const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_RET_K = 0x06;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const SECCOMP_RET_KILL_PROCESS = 0x80000000;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO = 0x00050000;
const EPERM = 1;
const X32_SYSCALL_BIT = 0x40000000;

/** x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
export const DENIED_X86_64: Readonly<Record<string, number>> = {
  ptrace: 101,
  personality: 135,
  pivot_root: 155,
  acct: 163,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  sethostname: 170,
  setdomainname: 171,
  iopl: 172,
  ioperm: 173,
  init_module: 175,
  delete_module: 176,
  quotactl: 179,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  kexec_load: 246,
  unshare: 272,
  perf_event_open: 298,
  name_to_handle_at: 303,
  open_by_handle_at: 304,
  setns: 308,
  process_vm_readv: 310,
  process_vm_writev: 311,
  finit_module: 313,
  kexec_file_load: 320,
  bpf: 321,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
};

function insn(code: number, jt: number, jf: number, k: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(code, 0);
  b.writeUInt8(jt, 2);
  b.writeUInt8(jf, 3);
  b.writeUInt32LE(k >>> 0, 4);
  return b;
}

/** The filter as bytes (struct sock_filter[], little-endian), or null off x86_64. */
export function seccompProgram(arch: string = process.arch): Buffer | null {
  if (arch !== "x64") return null;
  const denied = Object.values(DENIED_X86_64);
  const n = denied.length;
  const out: Buffer[] = [
    insn(BPF_LD_W_ABS, 0, 0, 4), // seccomp_data.arch
    insn(BPF_JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
    insn(BPF_RET_K, 0, 0, SECCOMP_RET_KILL_PROCESS),
    insn(BPF_LD_W_ABS, 0, 0, 0), // seccomp_data.nr
    // x32 syscalls (nr | 0x40000000) would alias the numbers below: deny them all.
    insn(BPF_JGE_K, n + 1, 0, X32_SYSCALL_BIT),
  ];
  denied.forEach((nr, i) => out.push(insn(BPF_JEQ_K, n - i, 0, nr)));
  out.push(insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW));
  out.push(insn(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM));
  return Buffer.concat(out);
}
