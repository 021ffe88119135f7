import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { reportDelta, summationMissed } from '../cli/deltas';

// Deltas measured (2026-12-03) on untrained torchvision models with the zero baseline.
test('a miss of 3.6 % at logits of 10⁻⁹ warns (MobileNetV2 with an absolute threshold); 2·10⁻¹⁵ does not', () => {
  assert.ok(summationMissed(1.2e-10, 3.31e-9, 3.31e-9));
  assert.not.ok(summationMissed(2e-15, 3.31e-9, 3.31e-9));
});

test('where f(x) − f(x⁰) is at the rounding of the logits, a delta of a few of their ulps does not warn', () => {
  assert.not.ok(summationMissed(-1.84e-13, -3.6e-21, 0.031)); // GoogLeNet
  assert.not.ok(summationMissed(-4.0e-7, -4.24e-4, 0.7)); // Swin-T
  assert.ok(summationMissed(-1e-4, -4.24e-4, 0.7));
});

test('at ordinary scales a miss is 1e-4 of f(x) − f(x⁰); without f(x), 1e-4 absolute below a change of 1', () => {
  assert.not.ok(summationMissed(2.3e-5, 82.35, 111.7)); // ResNet-50
  assert.ok(summationMissed(1e-2, 82.35, 111.7));
  assert.ok(summationMissed(2e-4, 1.5));
  assert.not.ok(summationMissed(9e-5, 0.01));
});

test('a mean over a tensor whose entries are of order 1 but whose mean is 10⁻⁸ (a ViT token after LayerNorm): the rounding scale is the mean of the entries\' magnitudes, not the mean', () => {
  // BEiT-style ViT (held out, 2026-12-04): mean = 6.05e-9, mean |entry| 0.8, f(x) − f(x⁰) 1.86e-8, all attributions 0.
  assert.not.ok(summationMissed(-1.863e-8, 1.863e-8, 0.8, 6.05e-9));
  assert.ok(summationMissed(-1.863e-8, 1.863e-8, 6.05e-9));
  assert.ok(summationMissed(-1e-5, 1.863e-8, 0.8, 6.05e-9));
});

// A fully convolutional net on a 1024×1024 image (held out, 2026-12-07): attributions within 6.9·10⁻¹⁰
// of a float64 Rescale reference, Σ a −0.0177850 as float64's f(x) − f(x⁰), Σ |a| 0.1446; onnxruntime's
// float32 forward (a mean over 262,144 values) gave f(x) − f(x⁰) = −0.0177878, and the CLI warned.
test('a miss within 1e-4 of Σ|a| is the forward\'s float32 rounding of contributions that large, not a miss', () => {
  assert.not.ok(summationMissed(2.842e-6, -0.0177878, 0.0177878, -0.0177878, 0.1446));
  assert.ok(summationMissed(2.842e-6, -0.0177878, 0.0177878, -0.0177878));
  assert.ok(summationMissed(2e-5, -0.0177878, 0.0177878, -0.0177878, 0.1446));
});

test('subnormal values (an input of 10⁻⁴⁰) keep no relative precision: a miss below the smallest normal float32 does not warn', () => {
  assert.not.ok(summationMissed(9.184e-40, 2e-39, 3e-39)); // fuzz seed 1776, #903
  assert.ok(summationMissed(2e-38, 2e-37, 3e-37));
});


test('LRP\'s conservation line gives f(x) as the run gave it: Σ R − δ cancels in float32 where the relevance is large (an InstanceNorm style-transfer net: Σ R 5·10¹⁴, f(x) 315.87)', () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (m: string) => lines.push(m);
  try {
    const total = 4.95659e14;
    reportDelta(Float32Array.of(total - 315.87), [{ sum: total, abs: total }], [{ value: 315.87, magnitude: 315.87 }], 'conserved', false);
  } finally {
    console.log = log;
  }
  assert.match(lines[0], /^row 0: Σ relevance 4\.95659e\+14 of f\(x\) 315\.870 \(/);
});

test.run();
