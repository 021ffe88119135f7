import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ExplainError } from '../rewriter/errors';
import { gradientRules, RuleTable } from '../rules/registry';
import { opRules } from '../rules/ops';
import { methodNames, methods } from '../rules/methods';
import { opKey } from '../rules/registry';
import { CATEGORIES, RuleEntry } from '../rules/types';
import { Explainer } from '../runtime';
import { Emitter } from '../rewriter/emitter';
import { DataType } from '../rewriter/proto';
import { tinyGraph, tinyModel } from './support/tiny-model';
import { buildAugmented } from '../rewriter/augment';
import { GraphView } from '../rewriter/graph-view';
import { probeFacts } from '../runtime/probe';
import { methodNeeds } from './support/method-needs';

const OPS_DIR = path.resolve(__dirname, '../../rules/ops');

function ruleFiles(): string[] {
  return fs.readdirSync(OPS_DIR).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && f !== 'index.ts').map((f) => f.slice(0, -3)).sort();
}


/** The newest default-domain opset onnxruntime-node runs (1.30: 25); rules without `until` hold there. */
const NEWEST_OPSET = 25;
test('the rules/ops source folder is found and non-empty', () => {
  assert.ok(fs.existsSync(path.join(OPS_DIR, 'index.ts')), `${OPS_DIR}/index.ts`);
  assert.ok(ruleFiles().length >= 20, `only ${ruleFiles().length} rule files`);
});

test('every rules/ops/<key>.ts (key: Op, or domain.Op for contrib ops) exports entries for that op, all registered in opRules', () => {
  const missing: string[] = [];
  for (const op of ruleFiles()) {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const mod = require(path.join(__dirname, '../rules/ops', op)) as Record<string, unknown>;
    const entries = Object.values(mod).flatMap((v) => (Array.isArray(v) ? v : [v])).filter((v): v is RuleEntry => !!v && typeof v === 'object' && 'opType' in v && 'rule' in v);
    const own = entries.filter((e) => opKey(e.opType, e.domain) === op);
    assert.ok(own.length > 0, `rules/ops/${op}.ts exports no RuleEntry for '${op}'`);
    for (const e of own) if (!opRules.includes(e)) missing.push(`${op} (since ${e.since})`);
    assert.ok(own.some((e) => gradientRules.lookup(e.opType, NEWEST_OPSET, e.domain)) || own.every((e) => e.until !== undefined), `${op} not found in gradientRules at opset ${NEWEST_OPSET}`);
  }
  assert.equal(missing, [], 'entries exported by rules/ops files but missing from opRules (rules/ops/index.ts)');
});

test('every opRules entry has a rules/ops file of its op type and a sane opset range', () => {
  const files = new Set(ruleFiles());
  for (const e of opRules) {
    assert.ok(files.has(opKey(e.opType, e.domain)), `opRules entry '${opKey(e.opType, e.domain)}' has no rules/ops/${opKey(e.opType, e.domain)}.ts`);
    assert.ok(Number.isInteger(e.since) && e.since >= 1, `${e.opType}: since ${e.since}`);
    if (e.until !== undefined) assert.ok(Number.isInteger(e.until) && e.until > e.since, `${e.opType}: empty range [${e.since}, ${e.until})`);
    assert.type(e.rule.backward, 'function', `${e.opType}: rule.backward`);
  }
});

test('every op declares one of the categories', () => {
  const bad = opRules.filter((e) => !CATEGORIES.includes(e.category)).map((e) => `${e.opType}: '${e.category}'`);
  assert.equal(bad, [], 'entries with an unknown category');
});

test('every method decides every op: each opRules entry resolves in every method table over its opset range', () => {
  const missing: string[] = [];
  for (const name of methodNames) {
    for (const e of opRules) {
      const last = (e.until ?? NEWEST_OPSET + 1) - 1;
      for (const opset of [e.since, last]) {
        if (!methods[name].table.lookup(e.opType, opset, e.domain)) missing.push(`${name}: ${opKey(e.opType, e.domain)} (${e.category}) at opset ${opset}`);
      }
    }
  }
  assert.equal(missing, [], 'ops without a decision (their category maps to no rule for that op)');
});

test('entries of the same op type have disjoint [since, until) ranges', () => {
  const byOp = new Map<string, RuleEntry[]>();
  for (const e of opRules) byOp.set(opKey(e.opType, e.domain), [...(byOp.get(opKey(e.opType, e.domain)) ?? []), e]);
  for (const [op, list] of byOp) {
    const sorted = [...list].sort((a, b) => a.since - b.since);
    for (let i = 1; i < sorted.length; i++) {
      const prevEnd = sorted[i - 1].until ?? Infinity;
      assert.ok(prevEnd <= sorted[i].since, `${op}: [${sorted[i - 1].since}, ${sorted[i - 1].until ?? '∞'}) overlaps [${sorted[i].since}, ${sorted[i].until ?? '∞'})`);
    }
  }
});

test('every method table resolves Conv, Relu and Gemm at opset 13', () => {
  assert.ok(methodNames.length >= 1);
  for (const name of methodNames) {
    const m = methods[name];
    assert.is(m.name, name, `methods['${name}'].name`);
    for (const op of ['Conv', 'Relu', 'Gemm']) assert.ok(m.table.lookup(op, 13), `${name}: no rule for ${op} at opset 13`);
  }
});

test('a rule that leaves out an input depending on the explained input is refused in one line, not summed as zero', async () => {
  const dropsB: RuleEntry[] = opRules.map((e) => (e.opType === 'Mul' ? { ...e, rule: { backward: (_ctx, [dY]) => [dY] } } : e));
  const method = { ...methods.gradient, table: new RuleTable(dropsB) };
  const { model, xs } = tinyGraph([1, 4], 13, (em, x) => em.mul(x, em.op('Tanh', [x])));
  const { facts } = await probeFacts(model, xs, 'tiny');
  const build = () => buildAugmented({ view: new GraphView(model, 'tiny'), facts, batchDynamic: false, method, input: 'x', from: 'y', options: {} });
  assert.throws(build, (e: Error) => e instanceof ExplainError && /^tiny: node '[^']+' \(Mul, opset 13\): its input 1 \('[^']+'\) depends on the explained input, and its Mul rule gives no gradient for that input$/.test(e.message));
});

test('an op without a backward rule fails naming the node, op type, opset and the supported ops', async () => {
  assert.not.ok(gradientRules.lookup('Det', 13), 'Det is expected to have no rule');
  const bytes = tinyModel([4], 13, (em, x) => em.mul(em.unsqueeze(em.op('Det', [em.reshape(em.op('Relu', [x]), [-1, 2, 2])]), [1]), em.scalar(2)));
  const ex = await Explainer.load(bytes);
  let err: unknown;
  try {
    await ex.attribute({ data: Float32Array.from([0.1, -0.2, 0.3, 0.4]), dims: [1, 4] }, { target: 0 });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ExplainError, `expected an ExplainError, got ${err}`);
  const msg = (err as Error).message;
  const det = ex.view.nodes.find((n) => n.op_type === 'Det')!;
  assert.not.match(msg, /\n/, 'one line');
  assert.ok(msg.includes(`'${det.name}'`), `names the node '${det.name}': ${msg}`);
  assert.match(msg, /\bDet\b/);
  assert.match(msg, /opset 13/);
  assert.match(msg, /supported ops: .*\bConv\b.*\bRelu\b/);
  for (const op of gradientRules.opTypes()) assert.ok(msg.includes(op), `supported list names ${op}`);
  for (const name of methodNames.filter((m) => m !== 'gradient')) {
    await ex.attribute({ data: Float32Array.from([0.1, -0.2, 0.3, 0.4]), dims: [1, 4] }, { target: 0, method: name, ...methodNeeds(name) }).then(
      () => assert.unreachable(`${name}: Det accepted`),
      (e) => {
        assert.instance(e, ExplainError, `${name}: ExplainError`);
        assert.match(e.message, /Det.*opset 13/);
      },
    );
  }
});

for (const [what, body] of [
  ['a threshold', (em: Emitter, x: string) => em.mul(em.cast(em.compare('Greater', em.op('Relu', [x]), em.scalar(0.5)), DataType.FLOAT), em.scalar(3))],
  ['ArgMax', (em: Emitter, x: string) => em.cast(em.op('ArgMax', [x], { axis: 1, keepdims: 1 }), DataType.FLOAT)],
  ['Hardmax', (em: Emitter, x: string) => em.mul(em.op('Hardmax', [em.op('Relu', [x])], { axis: 1 }), em.scalar(2))],
] as const) {
  test(`an output computed through ${what} has no gradient: one line naming the node, op and opset`, async () => {
    const ex = await Explainer.load(tinyModel([4], 13, body));
    const step = ex.view.nodes.find((n) => ['Greater', 'ArgMax', 'Hardmax'].includes(n.op_type ?? ''))!;
    for (const method of ['gradient', 'deeplift']) {
      const err = await ex.attribute({ data: Float32Array.from([0.1, -0.2, 0.7, 0.4]), dims: [1, 4] }, { target: 0, method }).then(() => undefined, (e) => e);
      assert.instance(err, ExplainError, `${method}: expected an ExplainError, got ${err}`);
      const msg = (err as Error).message;
      assert.not.match(msg, /\n/, 'one line');
      assert.ok(msg.includes(`node '${step.name}' (${step.op_type}, opset 13)`), msg);
      assert.match(msg, /has no gradient with respect to 'x'.*(boolean|int64|float).*explain a tensor computed before/);
    }
  });
}

test.run();
