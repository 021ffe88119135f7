import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import ndarray from 'ndarray';
import * as ts from 'typescript';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { asNdarray, Explainer } from '../runtime';
import { runCli, tempDir } from './support/cli-harness';
import { loadFixture, relL2 } from './support/fixtures';

const ROOT = path.resolve(__dirname, '../..');

test('the packed package holds dist and bin only: no tests, fixtures, examples or TypeScript sources', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, r.stderr);
  const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
  assert.ok(files.includes('dist/runtime/index.js') && files.includes('dist/runtime/index.d.ts') && files.includes('bin/onnx-explain.js') && files.includes('dist/cli/main.js'), 'entry points');
  const stray = files.filter((f) => /^(test|models|examples|dist\/test|dist\/examples)\/|\.ts$/.test(f) && !f.endsWith('.d.ts'));
  assert.equal(stray, []);
});

test('the repository\'s npm install skips onnxruntime-node\'s CUDA download with every npm: package.json\'s allowScripts (npm ≥ 11.16) and .npmrc\'s onnxruntime-node-install=skip (older npm: without it the script failed, npm dropped the binding and the build of the tests failed, exit 2)', () => {
  assert.is(require(path.join(ROOT, 'package.json')).allowScripts['onnxruntime-node'], false);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_onnxruntime_node_install$/i.test(k)));
  const r = spawnSync('npm', ['config', 'get', 'onnxruntime-node-install'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'skip');
});

test('--version prints package.json\'s version', async () => {
  const r = await runCli(['--version']);
  assert.is(r.code, 0);
  assert.equal(r.out, [require(path.join(ROOT, 'package.json')).version]);
});

test('ndarray inputs: a contiguous view is used as is, a transposed one copied; results as ndarray views without a copy', async () => {
  const fx = loadFixture('nhwc');
  const ex = await Explainer.load(fx.model);
  const plain = await ex.attribute(fx.input, { target: fx.meta.target });
  const view = ndarray(fx.input.data, fx.input.dims);
  const fromView = await ex.attribute(view, { target: fx.meta.target });
  assert.equal(Array.from(fromView.attributions.data), Array.from(plain.attributions.data));
  // The same values stored with the last two axes swapped, read back through a transposed view.
  const [n, h, w, c] = fx.input.dims;
  const swapped = new Float32Array(fx.input.data.length);
  const src = ndarray(fx.input.data, fx.input.dims);
  const dst = ndarray(swapped, [n, h, c, w]);
  for (let a = 0; a < n; a++) for (let b = 0; b < h; b++) for (let k = 0; k < w; k++) for (let l = 0; l < c; l++) dst.set(a, b, l, k, src.get(a, b, k, l));
  const fromTransposed = await ex.attribute(dst.transpose(0, 1, 3, 2), { target: fx.meta.target });
  assert.ok(relL2(fromTransposed.attributions.data, plain.attributions.data) === 0, 'transposed view read element by element');
  const out = asNdarray(plain.attributions);
  assert.ok(out.data === plain.attributions.data, 'same memory');
  assert.equal(out.shape, plain.attributions.dims);
  const [i, j, k, l] = [1, 2, 3, 0].map((v, d) => Math.min(v, plain.attributions.dims[d] - 1));
  const dims = plain.attributions.dims;
  assert.is(out.get(i, j, k, l), plain.attributions.data[((i * dims[1] + j) * dims[2] + k) * dims[3] + l]);
});

/** TypeScript's diagnostics for `code` in a project that depends on this package (a link to it), compiled with `options`. */
function compile(file: string, code: string, options: ts.CompilerOptions, pkg: object = {}): ts.Diagnostic[] {
  const dir = tempDir('consumer');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'onnx-explain'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg));
  fs.writeFileSync(path.join(dir, file), code);
  const program = ts.createProgram([path.join(dir, file)], { strict: true, noEmit: true, types: [], lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], ...options });
  return [...ts.getPreEmitDiagnostics(program)];
}

/** The values (not types) a declaration file exports, as TypeScript resolves them. */
function declaredValues(file: string): string[] {
  const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [], lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], noEmit: true });
  const checker = program.getTypeChecker();
  const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!);
  const isValue = (s: ts.Symbol) => ((s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s).flags & ts.SymbolFlags.Value) !== 0;
  return exported.filter(isValue).map((s) => s.name).sort();
}

test('the declared types are those of the module each condition loads: the Node entry\'s names, the browser bundle\'s (for `onnx-explain/browser` and the `browser` condition of `onnx-explain`), an ES module\'s without a default export', () => {
  const pkg = require(path.join(ROOT, 'package.json'));
  assert.equal(pkg.exports['.'].browser, pkg.exports['./browser'], 'the browser condition of the package is onnx-explain/browser');
  const bundle = fs.readFileSync(path.join(ROOT, pkg.exports['./browser'].default), 'utf8');
  const bundled = bundle.match(/export \{([^}]*)\};\s*$/)![1].split(',').map((e) => e.trim().split(/\s+as\s+/).pop()!).sort();
  assert.equal(declaredValues(path.join(ROOT, pkg.exports['./browser'].types)), bundled);
  assert.equal(declaredValues(path.join(ROOT, pkg.exports['.'].types)), Object.keys(require(path.join(ROOT, pkg.exports['.'].default))).sort());
  const codes = (d: ts.Diagnostic[]) => d.map((x) => `TS${x.code}: ${ts.flattenDiagnosticMessageText(x.messageText, ' ')}`);
  // Bundlers pick the browser condition: its names, not the Node entry's.
  const bundler = { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, customConditions: ['browser'] };
  assert.equal(codes(compile('app.ts', "import { decodeImage, asNdarray, Explainer } from 'onnx-explain';\nexport const used = [decodeImage, asNdarray, Explainer];\n", bundler)), []);
  assert.equal(codes(compile('app.ts', "import { readNpy } from 'onnx-explain';\nexport const used = readNpy;\n", bundler)).map((m) => m.slice(0, 6)), ['TS2305']);
  // The bytes a page downloads are Blob parts (TS 5.7's lib.dom takes no Uint8Array<ArrayBufferLike>: TS2322).
  const download = "import { encodeModel, encodeNpy, type ModelProto } from 'onnx-explain/browser';\nexport const blob = (m: ModelProto) => new Blob([encodeModel(m), encodeNpy(new Float32Array(1), [1])]);\n";
  assert.equal(codes(compile('app.ts', download, bundler)), []);
  assert.equal(codes(compile('app.ts', "import { encodePng } from 'onnx-explain';\nexport const blob = new Blob([encodePng({ width: 1, height: 1, data: new Uint8Array(4) })]);\n", { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 })), []);
  // Node's ESM: named imports from the bundle, no default (it has none: the import failed at run time).
  const esm = { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext };
  assert.equal(codes(compile('app.ts', "import { Explainer } from 'onnx-explain/browser';\nexport const used = Explainer;\n", esm, { type: 'module' })), []);
  assert.equal(codes(compile('app.ts', "import oe from 'onnx-explain/browser';\nexport const used = oe;\n", esm, { type: 'module' })).map((m) => m.slice(0, 6)), ['TS1192']);
  // TypeScript's classic resolution (module commonjs, node10) reads no exports map: typesVersions maps the subpath.
  const node10 = { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 };
  assert.equal(codes(compile('app.ts', "import { Explainer, decodeImage } from 'onnx-explain/browser';\nimport { readNpy } from 'onnx-explain';\nexport const used = [Explainer, decodeImage, readNpy];\n", node10)), []);
});

test.run();
