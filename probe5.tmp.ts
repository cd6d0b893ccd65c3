import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "./src/store/sqlite.js";
const s = openSqliteStore({ path: join(mkdtempSync(join(tmpdir(), "st-")), "n.sqlite") });
const text = "a".repeat(64) + ":" + "b".repeat(64);
async function round(n: number, tag: string) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const id = `chatcmpl-${tag}${i}xxxxxxxxxxxxxxxxxx`;
    await s.startUsage({ requestId: id, keyId: null, model: "canned", route: "chat", startedAt: Date.now() });
    await s.finishUsage(id, { promptTokens: 5, completionTokens: 8, status: "ok", finishedAt: Date.now() });
    await s.putSignature({ id, algo: "ecdsa", text, signature: "0x" + "c".repeat(130), address: "0x" + "d".repeat(40), keyId: null });
    await s.putSignature({ id: "up-" + id, algo: "ecdsa", text, signature: "0x" + "c".repeat(130), address: "0x" + "d".repeat(40), keyId: null });
    await new Promise((r) => setImmediate(r));
  }
  const c = process.cpuUsage(c0);
  console.log(tag, "store cpu/request", ((c.user + c.system) / n).toFixed(0), "µs", "wall", ((performance.now() - t0) * 1000 / n).toFixed(0));
}
await round(300, "w");
await round(2000, "a");
await round(2000, "b");
