/**
 * What the egress proxy saw for one run, content-free: each decision (allowed or not, and
 * why) and bytes per allowed host. A refused host name may itself carry exfiltrated data
 * (`<secret>.evil.example`), so refused names are recorded only as a short hash.
 */
import { sha256Hex } from "../canonical.js";

export type DecisionKind = "connect" | "http" | "inference";

export interface EgressDecision {
  readonly kind: DecisionKind;
  /** The canonical host for allowed decisions; `h:` + 16 hex of its hash for refused ones. */
  readonly host: string;
  readonly port: number;
  readonly allowed: boolean;
  readonly reason: string;
}

export interface HostTraffic {
  readonly host: string;
  readonly port: number;
  connections: number;
  bytesOut: number;
  bytesIn: number;
}

export class TrafficLog {
  readonly decisions: EgressDecision[] = [];
  readonly counters = new Map<string, number>();
  private readonly hosts = new Map<string, HostTraffic>();
  private readonly maxDecisions: number;

  constructor(maxDecisions = 1000) {
    this.maxDecisions = maxDecisions;
  }

  decide(kind: DecisionKind, host: string, port: number, allowed: boolean, reason: string): void {
    const key = `${kind}:${allowed ? "allowed" : "refused"}:${reason}`;
    this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
    if (this.decisions.length >= this.maxDecisions) return;
    this.decisions.push({ kind, host: allowed ? host : `h:${sha256Hex(host).slice(0, 16)}`, port, allowed, reason });
  }

  traffic(host: string, port: number): HostTraffic {
    const k = `${host}:${port}`;
    let t = this.hosts.get(k);
    if (!t) {
      t = { host, port, connections: 0, bytesOut: 0, bytesIn: 0 };
      this.hosts.set(k, t);
    }
    return t;
  }

  contacted(): HostTraffic[] {
    return [...this.hosts.values()].filter((t) => t.connections > 0).sort((a, b) => (a.host + a.port < b.host + b.port ? -1 : 1));
  }

  refusals(): number {
    return this.decisions.filter((d) => !d.allowed).length;
  }
}
