/**
 * Test-only: a fake dstack guest agent on a unix socket that records each request and
 * answers with `reply` (the real agent is a prpc server speaking JSON over HTTP).
 */
import { mkdtempSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Asked {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export async function fakeAgent(reply: (a: Asked) => { status: number; body: string }): Promise<{ socketPath: string; asked: Asked[]; server: Server }> {
  const socketPath = join(mkdtempSync(join(tmpdir(), "dstack-ev-")), "dstack.sock");
  const asked: Asked[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const a = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body };
      asked.push(a);
      const r = reply(a);
      res.statusCode = r.status;
      res.setHeader("content-type", "application/json");
      res.end(r.body);
    });
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return { socketPath, asked, server };
}
