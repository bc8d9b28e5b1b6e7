#!/usr/bin/env node
// Compiles src/GpuPoolBilling.sol (and the parts it imports from src/parts/) with solc-js (standard
// JSON) into the ABI and BIN that the Java build turns into a typed wrapper.
// Usage: node scripts/compile.js [outputDir]
// Output is deterministic: same source + same solc + same settings => byte-identical files.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');
const settings = require('./solc-settings');

const contractsDir = path.resolve(__dirname, '..');
const outDir = path.resolve(process.argv[2] || path.join(contractsDir, '..', 'src', 'main', 'resources', 'contracts'));
const name = 'GpuPoolBilling';
const input = {
  language: 'Solidity',
  sources: { [`src/${name}.sol`]: { content: fs.readFileSync(path.join(contractsDir, 'src', `${name}.sol`), 'utf8') } },
  settings: {
    ...settings,
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
// Imports are source unit names relative to contractsDir (`src/parts/X.sol`), as forge names them;
// nothing outside contractsDir is read.
function findImports(importPath) {
  const file = path.resolve(contractsDir, importPath);
  if (!file.startsWith(contractsDir + path.sep) || !fs.existsSync(file)) {
    return { error: `File not found: ${importPath}` };
  }
  return { contents: fs.readFileSync(file, 'utf8') };
}
const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
for (const e of output.errors || []) process.stderr.write(`${e.formattedMessage}\n`);
if (errors.length > 0) process.exit(1);
const contract = output.contracts[`src/${name}.sol`][name];
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, `${name}.abi`), JSON.stringify(contract.abi, null, 2) + '\n');
fs.writeFileSync(path.join(outDir, `${name}.bin`), contract.evm.bytecode.object);
fs.writeFileSync(path.join(outDir, `${name}.solc-version`), solc.version() + '\n');
process.stdout.write(`compiled ${name} with solc ${solc.version()} -> ${outDir}\n`);
