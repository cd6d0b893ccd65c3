/**
 * Anonymous memory files for decrypted weights. Node has no memfd_create binding, so a
 * short-lived perl child (perl-base is Essential in Debian and present in most images)
 * makes the syscall; we open it through /proc/<child>/fd/<n> (a memfd reopens through
 * its /proc magic link) and the child exits. The file then lives only in RAM (the shmem
 * page cache, like tmpfs; swapped out only if the machine has swap — confidential VMs
 * normally have none), is on no filesystem, and vanishes when our last descriptor
 * closes. llama.cpp opens it by path as /proc/self/fd/<fd>.
 *
 * Not used: /dev/shm (a tmpfs: RAM too, but a named file that other processes and a
 * crash dump of the directory can find); a native addon (a build at install).
 */
import { spawn } from "node:child_process";
import { closeSync, ftruncateSync, openSync, writeSync } from "node:fs";
import { KmsCode, KmsError } from "../codes.js";

/** memfd_create(2) syscall numbers (asm/unistd.h). */
const SYSCALL: Readonly<Record<string, number>> = { x64: 319, arm64: 279 };
const MFD_CLOEXEC = 1;

export interface MemFile {
  readonly fd: number;
  /** The path llama.cpp opens: /proc/self/fd/<fd>. */
  readonly path: string;
  write(bytes: Uint8Array, position: number): void;
  /** Drops the contents (truncate to 0) and closes. */
  close(): void;
}

export async function createMemFile(name: string): Promise<MemFile> {
  const nr = SYSCALL[process.arch];
  if (process.platform !== "linux" || nr === undefined) throw new KmsError(KmsCode.KMS_BAD_REQUEST, `in-memory model files need Linux on x64 or arm64 (memfd_create); this is ${process.platform}/${process.arch}`);
  const script = `my $n = $ARGV[0]; my $fd = syscall(${nr}, $n, ${MFD_CLOEXEC}); die "memfd_create: $!\\n" if $fd < 0; $| = 1; print "$$ $fd\\n"; <STDIN>;`;
  const child = spawn("perl", ["-e", script, name.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 200)], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString("utf8");
      if (out.includes("\n")) resolve(out.trim());
    });
    child.once("error", (cause) => reject(new KmsError(KmsCode.KMS_BAD_REQUEST, "cannot run perl to create an in-memory file (memfd_create)", { cause })));
    child.once("exit", (code) => reject(new KmsError(KmsCode.KMS_BAD_REQUEST, `memfd_create failed (${code}): ${stderr.trim()}`)));
  });
  const [pid, childFd] = line.split(" ");
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/fd/${childFd}`, "r+");
  } finally {
    child.stdin.end();
  }
  return {
    fd,
    path: `/proc/self/fd/${fd}`,
    write(bytes, position) {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
    },
    close() {
      try {
        ftruncateSync(fd, 0);
      } finally {
        closeSync(fd);
      }
    },
  };
}
