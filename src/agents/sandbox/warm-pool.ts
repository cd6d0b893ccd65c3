/**
 * Sandboxes started ahead of demand, so a run does not wait for namespaces, a cgroup and
 * Node's boot (the bulk of a cold start). Each slot is a complete, fresh sandbox
 * (launch.ts) holding only the zygote: it is handed to exactly one run and refilled with a
 * new one, never returned — no process, file, socket or cgroup outlives its run. Slots
 * are keyed by what must be fixed at start (memory, CPU seconds, pids); a run with other
 * limits starts cold, and the pool then keeps a slot for those limits too (at most
 * `profiles` kinds, least recently used dropped).
 */
import { launchSandbox, type LaunchPlan, type Launched } from "./launch.js";

export interface PoolOptions {
  /** Ready slots kept per kind of limits (default 1). */
  readonly size?: number;
  /** Kinds of limits kept warm (default 2). */
  readonly profiles?: number;
  readonly workDir?: string;
  readonly support?: LaunchPlan["support"];
}

type Limits = LaunchPlan["limits"];

const keyOf = (l: Limits): string => `${l.memoryMb}/${l.cpuSeconds}/${l.pids}`;

export class SandboxPool {
  private readonly slots = new Map<string, Launched[]>();
  private readonly limitsOf = new Map<string, Limits>();
  private closed = false;

  constructor(private readonly opts: PoolOptions = {}) {}

  /** A fresh sandbox for these limits: a warm one when there is one, else started now. */
  take(limits: Limits): { sandbox: Launched; warm: boolean } {
    const key = keyOf(limits);
    const list = this.slots.get(key) ?? [];
    let sandbox: Launched | undefined;
    while ((sandbox = list.shift()) && !sandbox.alive()) sandbox.discard();
    this.touch(key, limits);
    const taken = sandbox ?? this.launch(limits);
    // Refilled once this run's process has ended: a booting slot would compete with it for the CPU.
    void taken.exited.then(() => setImmediate(() => this.fillQuietly(key)));
    return { sandbox: taken, warm: sandbox !== undefined };
  }

  /** Starts slots for these limits now (a node warms its default limits at boot). */
  warm(limits: Limits): Promise<boolean[]> {
    const key = keyOf(limits);
    this.touch(key, limits);
    this.fill(key);
    return Promise.all((this.slots.get(key) ?? []).map((s) => s.ready));
  }

  size(): number {
    let n = 0;
    for (const l of this.slots.values()) n += l.length;
    return n;
  }

  close(): void {
    this.closed = true;
    for (const list of this.slots.values()) for (const s of list.splice(0)) s.discard();
    this.slots.clear();
  }

  private launch(limits: Limits): Launched {
    return launchSandbox({ limits, ...(this.opts.workDir ? { workDir: this.opts.workDir } : {}), ...(this.opts.support ? { support: this.opts.support } : {}) });
  }

  private touch(key: string, limits: Limits): void {
    this.limitsOf.delete(key);
    this.limitsOf.set(key, limits);
    const max = this.opts.profiles ?? 2;
    while (this.limitsOf.size > max) {
      const oldest = this.limitsOf.keys().next().value as string;
      this.limitsOf.delete(oldest);
      for (const s of this.slots.get(oldest) ?? []) s.discard();
      this.slots.delete(oldest);
    }
  }

  private fillQuietly(key: string): void {
    try {
      this.fill(key);
    } catch {
      /* a slot that cannot start now is started cold by the next take(), which reports why */
    }
  }

  private fill(key: string): void {
    const limits = this.limitsOf.get(key);
    if (this.closed || !limits) return;
    const list = this.slots.get(key) ?? [];
    this.slots.set(key, list);
    while (list.length < (this.opts.size ?? 1)) list.push(this.launch(limits));
  }
}
