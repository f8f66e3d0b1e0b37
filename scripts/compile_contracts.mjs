#!/usr/bin/env node
// Compiles the Solidity sources with the pinned solc from npm and writes the ABI/bytecode
// artifacts that the Python package loads, so Python users never need a compiler.
//
//   node scripts/compile_contracts.mjs           write the artifacts
//   node scripts/compile_contracts.mjs --check   exit 1 if a committed artifact is stale
//
// One place holds the compiler settings (SETTINGS below); they are recorded in every artifact.

import { createRequire } from "node:module";
import { readFileSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

// evmVersion is explicit: solc 0.8.37 defaults to osaka, which many chains do not run yet.
const BASE = {
  evmVersion: "cancun",
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};
// The Community contract uses the IR pipeline (its packed structs need it); the OpenZeppelin
// reference is built both ways by scripts/bench_gas.py's choice: see REFERENCE_VIA_IR there.
const TARGETS = [
  // runs 50, not 200: with the IGovernor surface the contract is close to the 24,576-byte code
  // limit (EIP-170), and 200 runs would exceed it; scripts/bench_gas.py measures the cost.
  [
    "contracts/Community.sol",
    "governance/artifacts/Community.json",
    ["Community"],
    { viaIR: true, optimizer: { enabled: true, runs: 50 } },
  ],
  [
    "contracts/reference/ReferenceGovernor.sol",
    "contracts/reference/artifacts/ReferenceGovernor.json",
    ["MemberVotes", "MemberRegistry", "ReferenceGovernor"],
    {},
  ],
  [
    "contracts/reference/ReferenceGovernor.sol",
    "contracts/reference/artifacts/ReferenceGovernorViaIR.json",
    ["MemberVotes", "MemberRegistry", "ReferenceGovernor"],
    { viaIR: true },
  ],
];

function findImport(path) {
  for (const base of [ROOT, join(ROOT, "node_modules")]) {
    const full = join(base, path);
    if (existsSync(full)) return { contents: readFileSync(full, "utf8") };
  }
  return { error: `import not found: ${path}` };
}

function compile(sourcePath, keep, extra) {
  const settings = { ...BASE, ...extra };
  const input = {
    language: "Solidity",
    sources: { [sourcePath]: { content: readFileSync(join(ROOT, sourcePath), "utf8") } },
    settings,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  // Warnings about our own sources are shown; the dependencies' are theirs to fix.
  for (const e of output.errors || []) {
    const file = e.sourceLocation ? e.sourceLocation.file : "";
    if (e.severity === "error" || file.startsWith("contracts/")) process.stderr.write(e.formattedMessage + "\n");
  }
  if (errors.length) throw new Error(`${sourcePath}: ${errors.length} compiler error(s)`);
  const contracts = {};
  for (const name of keep) {
    const c = output.contracts[sourcePath][name];
    contracts[name] = {
      abi: c.abi,
      bytecode: "0x" + c.evm.bytecode.object,
      deployedBytecode: "0x" + c.evm.deployedBytecode.object,
    };
  }
  return {
    source: sourcePath,
    compiler: {
      solc: solc.version(),
      settings: { evmVersion: settings.evmVersion, optimizer: settings.optimizer, viaIR: Boolean(settings.viaIR) },
    },
    contracts,
  };
}

const check = process.argv.includes("--check");
let stale = 0;
for (const [source, artifact, keep, extra] of TARGETS) {
  const text = JSON.stringify(compile(source, keep, extra), null, 1) + "\n";
  const path = join(ROOT, artifact);
  if (check) {
    const current = existsSync(path) ? readFileSync(path, "utf8") : "";
    if (current !== text) {
      process.stderr.write(`stale: ${artifact} does not match ${source}; run: node scripts/compile_contracts.mjs\n`);
      stale += 1;
    } else {
      process.stdout.write(`ok: ${artifact}\n`);
    }
  } else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    process.stdout.write(`wrote ${artifact}\n`);
  }
}
process.exit(stale ? 1 : 0);
