#!/usr/bin/env node
// Writes contracts/artifacts/<Name>.json (abi, bytecode, deployedBytecode) for every deployable
// contract under contracts/src from forge's build output, or with --check compares what it would
// write with what is committed and fails on any difference.
//
// Usage: node tools/artifacts.mjs [--check]   (run `forge build` in contracts/ first)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const contractsDir = path.join(root, 'contracts');
const outDir = path.join(contractsDir, 'out');
const artifactsDir = path.join(contractsDir, 'artifacts');
const check = process.argv.includes('--check');

function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : [full];
  });
}

// Deployable contracts are the ones in src/ outside interfaces/ and libraries/.
const sources = walk(path.join(contractsDir, 'src'))
  .filter((file) => file.endsWith('.sol'))
  .filter((file) => !/\/(interfaces|libraries)\//.test(file))
  .sort();

const expected = new Map();
for (const source of sources) {
  const name = path.basename(source, '.sol');
  const built = path.join(outDir, path.basename(source), `${name}.json`);
  if (!fs.existsSync(built)) {
    console.error(`artifacts: ${built} is missing; run forge build in contracts/ first`);
    process.exit(1);
  }
  const json = JSON.parse(fs.readFileSync(built, 'utf8'));
  const artifact = {
    contractName: name,
    sourceName: path.relative(contractsDir, source),
    abi: json.abi,
    bytecode: json.bytecode.object,
    deployedBytecode: json.deployedBytecode.object,
  };
  expected.set(`${name}.json`, `${JSON.stringify(artifact, null, 2)}\n`);
}

if (!check) {
  fs.mkdirSync(artifactsDir, { recursive: true });
  for (const file of fs.readdirSync(artifactsDir)) {
    if (file.endsWith('.json') && !expected.has(file)) fs.rmSync(path.join(artifactsDir, file));
  }
  for (const [file, text] of expected) fs.writeFileSync(path.join(artifactsDir, file), text);
  console.log(`artifacts: wrote ${expected.size} files to contracts/artifacts`);
  process.exit(0);
}

const problems = [];
const committed = fs.existsSync(artifactsDir)
  ? fs.readdirSync(artifactsDir).filter((file) => file.endsWith('.json'))
  : [];
for (const file of committed) {
  if (!expected.has(file)) problems.push(`${file} has no contract in contracts/src`);
}
for (const [file, text] of expected) {
  const target = path.join(artifactsDir, file);
  if (!fs.existsSync(target)) problems.push(`${file} is missing`);
  else if (fs.readFileSync(target, 'utf8') !== text) problems.push(`${file} differs from a fresh build`);
}
if (problems.length > 0) {
  for (const problem of problems) console.error(`artifacts: ${problem}`);
  console.error('artifacts: stale; run `make contracts` and commit contracts/artifacts');
  process.exit(1);
}
console.log(`artifacts: ${expected.size} files match a fresh build`);
