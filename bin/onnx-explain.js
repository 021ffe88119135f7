#!/usr/bin/env node
// A reader that stops early (`onnx-explain info M | head`) closes stdout: end quietly, as Unix tools do.
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); throw e; });
require('../dist/cli/main.js').main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
