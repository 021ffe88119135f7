import * as os from 'os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import '../runtime';
import { sessionOptions } from '../runtime/session';

// onnxruntime's and PyTorch's default thread counts follow physical cores (one on this 2-vCPU
// machine); ours follow os.availableParallelism(), and pool threads stop spinning after each run.
test('native sessions default to one intra-op thread per core, threads that stop spinning, every graph optimisation and quiet logs', () => {
  assert.equal(sessionOptions(), {
    logSeverityLevel: 4, graphOptimizationLevel: 'all', intraOpNumThreads: os.availableParallelism(),
    extra: { session: { force_spinning_stop: '1' } },
  });
});

test("the user's options win, and their other config entries are kept beside the spinning one", () => {
  const o = sessionOptions({ intraOpNumThreads: 1, graphOptimizationLevel: 'basic', extra: { session: { set_denormal_as_zero: '1' }, optimization: { x: '1' } } });
  assert.is(o.intraOpNumThreads, 1);
  assert.is(o.graphOptimizationLevel, 'basic');
  assert.equal(o.extra, { session: { force_spinning_stop: '1', set_denormal_as_zero: '1' }, optimization: { x: '1' } });
  assert.equal(sessionOptions({ extra: { session: { force_spinning_stop: '0' } } }).extra, { session: { force_spinning_stop: '0' } });
});

test.run();
