#!/usr/bin/env node
// A `solc` command line over the pinned solc-js (npm `solc`), for the tools that want a native
// compiler binary: forge (foundry.toml's `solc`) and, through forge, Slither. Nothing is
// downloaded: both run the exact compiler the artifacts are built with.
//
//   scripts/solc --version           prints the version the way native solc does
//   scripts/solc --standard-json     compiles the standard-JSON input on stdin to stdout
//
// Other flags (--allow-paths, --base-path, --include-path) only widen where imports may be read
// from: their paths, the working directory and node_modules/ are searched for an import that is
// not already among the input's sources.

import { createRequire } from "node:module";
import { readFileSync, existsSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function importRoots(args) {
  const roots = [process.cwd()];
  for (let i = 0; i < args.length; ++i) {
    if (["--base-path", "--include-path", "--allow-paths"].includes(args[i]) && i + 1 < args.length) {
      roots.push(...args[i + 1].split(","));
      ++i;
    }
  }
  roots.push(ROOT, join(ROOT, "node_modules"));
  return roots;
}

function finder(roots) {
  return (path) => {
    const candidates = isAbsolute(path) ? [path] : roots.map((r) => join(r, path));
    for (const full of candidates) {
      if (existsSync(full)) return { contents: readFileSync(full, "utf8") };
    }
    return { error: `import not found: ${path}` };
  };
}

const args = process.argv.slice(2);
if (args.includes("--version")) {
  // Native solc's format ("Version: 0.8.37+commit.f401782d.Linux.g++"), which forge parses.
  const v = solc.version().replace(/\.Emscripten\.clang$/, "");
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${v}.Linux.g++\n`);
} else if (args.includes("--standard-json")) {
  const input = readFileSync(0, "utf8");
  process.stdout.write(solc.compile(input, { import: finder(importRoots(args)) }));
} else {
  process.stderr.write("usage: solc --version | solc --standard-json [--base-path P] [--include-path P]\n");
  process.exit(2);
}
