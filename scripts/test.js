#!/usr/bin/env node
// Runs the uvu suite (dist/test/**/*.test.js) and ends with one line CI reads:
// "N passed, N failed, N skipped". uvu's own summary (Total / Passed / Skipped) is passed through, and
// each failure is repeated just above that line, so a log cut to its end still names it.
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
const pattern = process.argv[2] ?? '.*\\.test\\.js$';
// CLI runs in the tests keep their graph cache in a folder of their own, removed at the end.
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-explain-test-cache-'));
// onnxruntime's telemetry would leave a session file and a debug log in the temp folder per test process.
const env = { ORT_DISABLE_TELEMETRY: '1', ...process.env, ONNX_EXPLAIN_CACHE_DIR: cacheDir, ...(process.stdout.isTTY ? { FORCE_COLOR: '1' } : {}) };
const child = spawn(process.execPath, [path.join(path.dirname(require.resolve('uvu')), '..', 'bin.js'), path.join(root, 'dist/test'), pattern], { env, stdio: ['ignore', 'pipe', 'inherit'] });
let text = '';
child.stdout.on('data', (chunk) => { process.stdout.write(chunk); text += chunk; });
child.on('close', (code, signal) => {
  fs.rmSync(cacheDir, { recursive: true, force: true });
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  const count = (label) => Number(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm').exec(plain)?.[1]);
  const [total, passed, skipped] = [count('Total'), count('Passed'), count('Skipped')];
  if (![total, passed, skipped].every(Number.isInteger)) {
    console.log(`test run did not finish (exit ${signal ?? code})`);
    process.exitCode = 1;
    return;
  }
  const failed = total - passed;
  if (failed) console.log(failureRecap(plain));
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exitCode = failed || code ? 1 : 0;
});

// uvu prints a failure under its file as ` FAIL  "name"`, the message (and diff), then the stack.
function failureRecap(plain) {
  const out = ['failed tests:'];
  let file = '';
  let state = 'none';
  let kept = 0;
  for (const line of plain.split('\n')) {
    if (/^\S.*\.test\.js$/.test(line) || /^\s+Total:/.test(line)) { file = line; state = 'none'; continue; }
    const fail = /^\s+FAIL\s+(".*")\s*$/.exec(line);
    if (fail) { out.push(`  ${file}: ${fail[1]}`); state = 'message'; kept = 0; continue; }
    if (state === 'none' || !line.trim()) continue;
    if (/^\s+at /.test(line)) {
      state = 'stack';
      if (line.includes(`${path.sep}dist${path.sep}test${path.sep}`)) { out.push(`    ${line.trim()}`); state = 'none'; }
    } else if (state === 'message' && kept++ < 12) out.push(`    ${line.trim()}`);
  }
  return out.join('\n');
}
