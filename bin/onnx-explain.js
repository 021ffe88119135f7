#!/usr/bin/env node
// A reader that stops early (`onnx-explain info M | head`) closes stdout: end quietly, as Unix tools do.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  process.stderr.write(`onnx-explain: error: cannot write to standard output: ${e.message}\n`);
  process.exit(1);
});
// onnxruntime 1.30's telemetry on Linux and macOS leaves a session file and a debug log in the temp
// folder on every run (and a device id in the user's cache); a command-line tool opts out unless asked.
process.env.ORT_DISABLE_TELEMETRY ??= '1';
require('../dist/cli/main.js').main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
