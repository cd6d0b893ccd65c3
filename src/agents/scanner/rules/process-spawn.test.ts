import { describe, expect, it } from "vitest";
import { findingsOf } from "../test-helpers.js";

describe("rule process-spawn", () => {
  it("flags child_process through every import style", () => {
    const code = `import { execSync } from "node:child_process"; import * as cp from "child_process"; const { spawn } = require("child_process");\nexecSync("id");\ncp.spawn("sh");\nspawn("curl");\nprocess.binding("spawn_sync");`;
    expect(findingsOf("process-spawn", code).map((f) => f.line)).toEqual([2, 3, 4, 5]);
  });
  it("is quiet on look-alike names", () => {
    expect(findingsOf("process-spawn", `const spawn = (x) => x; spawn("a"); const exec = /a/; exec.exec("a");`)).toEqual([]);
  });
});
