import { connect } from "node:tls";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { parseClientHello } from "./client-hello.js";

/** A real ClientHello from Node's TLS stack, captured by a plain TCP server. */
async function captureHello(servername: string | undefined): Promise<Buffer> {
  return new Promise((resolve) => {
    const server = createServer((s) => {
      s.once("data", (d) => {
        resolve(d);
        s.destroy();
        server.close();
      });
    });
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      const t = connect({ host: "127.0.0.1", port, ...(servername !== undefined ? { servername } : {}), rejectUnauthorized: false });
      t.on("error", () => {});
    });
  });
}

describe("parseClientHello", () => {
  it("reads the SNI of a real Node ClientHello", async () => {
    expect(parseClientHello(await captureHello("api.example.com"))).toEqual({ state: "ok", sni: "api.example.com", ech: false });
  });
  it("reports a missing SNI as null", async () => {
    expect(parseClientHello(await captureHello(""))).toMatchObject({ state: "ok", sni: null });
  });
  it("asks for more bytes while the record is incomplete, and refuses non-TLS", async () => {
    const hello = await captureHello("a.test");
    expect(parseClientHello(hello.subarray(0, 3))).toEqual({ state: "need_more" });
    expect(parseClientHello(hello.subarray(0, 40))).toEqual({ state: "need_more" });
    expect(parseClientHello(Buffer.from("GET / HTTP/1.1\r\n\r\n"))).toEqual({ state: "not_tls" });
  });
  it("never throws on garbage", () => {
    for (let i = 0; i < 200; i++) {
      const b = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, ...Array.from({ length: 64 }, () => Math.floor(Math.random() * 256))]);
      expect(["ok", "not_tls", "need_more"]).toContain(parseClientHello(b).state);
    }
  });
});
