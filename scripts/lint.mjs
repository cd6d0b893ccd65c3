#!/usr/bin/env node
// House rules tsc cannot enforce: named exports only, no `any`, no bare Error across modules.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

const problems = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith(".ts")) check(p);
  }
}
function check(file) {
  const lines = readFileSync(file, "utf8").split("\n");
  lines.forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (/^\s*export\s+default\b/.test(line)) problems.push(`${where}: default export`);
    if (/(:\s*any\b|<any>|\bas any\b|any\[\])/.test(line) && !line.includes("lint-allow-any")) problems.push(`${where}: \`any\``);
    if (/\b(it|test|describe)\.only\(/.test(line)) problems.push(`${where}: focused test`);
  });
}
walk("src");
walk("test");
if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("lint: ok");
