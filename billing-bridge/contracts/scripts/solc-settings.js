// Compiler settings shared by the ABI/BIN build (compile.js) and forge's solc wrapper, so the
// bytecode that forge measures is the bytecode the operator deploys.
'use strict';
module.exports = {
  optimizer: { enabled: true, runs: 10000 },
  evmVersion: 'cancun',
  viaIR: true,
};
