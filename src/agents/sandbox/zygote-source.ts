/**
 * What every sandbox runs first (after the bridge, `--import`): it waits on fd 3, the
 * launcher's control socket, for one line `{"entry": "...", "env": {...}}`, sets those
 * variables, closes the socket and imports the agent. This lets the costly part of a
 * start (namespaces, cgroup, Node's own boot, the bridge) happen before a run is asked
 * for, while the sandbox still serves exactly one run: nothing of the agent exists in it
 * before the line arrives, and the process ends with the agent. It holds no secret.
 * It says `ready` on the socket once it waits, so a pool knows a slot has booted.
 */
export const ZYGOTE_SOURCE = `
import net from "node:net";
const ctl = new net.Socket({ fd: 3, readable: true, writable: true });
let buf = "";
let started = false;
// Where the bundle is: /agent in the sandbox, the run's bundle directory in development mode.
const agentDir = process.argv[2] || "/agent";
ctl.on("error", () => {});
ctl.setEncoding("utf8");
ctl.write("ready\\n");
ctl.on("data", (d) => {
  buf += d;
  const i = buf.indexOf("\\n");
  if (i < 0 || started) return;
  started = true;
  ctl.destroy();
  const msg = JSON.parse(buf.slice(0, i));
  for (const [k, v] of Object.entries(msg.env)) process.env[k] = String(v);
  const file = agentDir + "/" + msg.entry;
  process.argv.splice(1, 2, file);
  import(file);
});
// The launcher went away before a run was handed over: nothing to do.
ctl.on("end", () => { if (!started) process.exit(0); });
`;
