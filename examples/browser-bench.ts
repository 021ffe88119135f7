/**
 * The browser module on the ResNet-18 bench model in headless Chromium (Debian's chromium):
 * load, probe and rewrite times, forward vs gradient / DeepLIFT attribution on WASM as ratios of
 * the same run, and the page's memory after each step (resident set of the renderer processes of the
 * Chromium this bench launched: VmRSS now, VmHWM peak so far, from /proc).
 *
 *   npm run bench:browser [-- --provider webgpu] [--runs 3]
 *
 * WebGPU here is SwiftShader (software Vulkan): its times show correctness only, not speed.
 */
import * as os from 'os';
import * as path from 'path';
import { browserMissing, openPage, rendererMemoryMB } from './web/headless';
import { ROOT } from './web/serve';
import { ensureResNet18 } from './resnet18';

const MODEL = path.join(ROOT, 'bench-cache', 'resnet18.onnx');

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const missing = browserMissing();
  if (missing) throw new Error(`cannot run the browser bench: ${missing}`);
  const made = ensureResNet18(MODEL);
  console.log(made.built ? `built ${path.relative(ROOT, MODEL)} in ${(made.ms / 1000).toFixed(1)} s` : `reusing ${path.relative(ROOT, MODEL)}`);
  const provider = argValue('--provider') ?? 'wasm';
  const args = { model: `/${path.relative(ROOT, MODEL)}`, methods: ['gradient', 'deeplift'], runs: Number(argValue('--runs') ?? 3), provider };
  console.log(`load average at start: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} CPUs`);
  const s = await openPage();
  const memory: [string, { rss: number; peak: number }][] = [];
  await s.page.exposeFunction('checkpoint', (step: string) => { memory.push([step, rendererMemoryMB()]); });
  try {
    const r = await s.page.evaluate(`import('/examples/web/bench.mjs').then((b) => b.run(${JSON.stringify(args)}))`) as {
      modelMB: number; ortStartMs: number; fetchMs: number; loadMs: number; probeMs: number; rewriteMs: Record<string, number>; firstForwardMs: number;
      firstAttributionMs: Record<string, number>; ratios: Record<string, { forwardMs: number; attributionMs: number; ratio: number }>;
      executionProvider: string; jsHeapMB?: number;
    };
    memory.push(['end (ratio runs: 3 sessions)', rendererMemoryMB()]);
    const ms = (v: number) => `${v.toFixed(0)} ms`;
    console.log(`\nResNet-18 224×224 (${r.modelMB.toFixed(1)} MB) in headless Chromium, onnxruntime-web ${r.executionProvider}, 1 thread${provider === 'webgpu' ? ' (SwiftShader: correctness only, not speed)' : ''}`);
    console.log(`onnxruntime-web start (fetch and compile its .wasm, first session) ${ms(r.ortStartMs)}`);
    console.log(`fetch ${ms(r.fetchMs)}, parse ${ms(r.loadMs)}, probe (shapes, batch axes) ${ms(r.probeMs)}`);
    console.log(`rewrite (augmented graph built in the page): ${Object.entries(r.rewriteMs).map(([m, v]) => `${m} ${ms(v)}`).join(', ')}`);
    console.log(`first calls (session creation + one run): forward ${ms(r.firstForwardMs)}, ${Object.entries(r.firstAttributionMs).map(([m, v]) => `${m} ${ms(v)}`).join(', ')}`);
    console.log(`medians of ${args.runs} interleaved runs, batch 1:`);
    for (const [m, v] of Object.entries(r.ratios)) console.log(`  ${m.padEnd(10)} forward ${ms(v.forwardMs).padStart(9)}  attribution ${ms(v.attributionMs).padStart(9)}  ratio ${v.ratio.toFixed(2)}×`);
    console.log('page memory (renderer resident set, MB) after each step: now / peak so far');
    for (const [step, m] of memory) console.log(`  ${step.padEnd(32)} ${m.rss.toFixed(0).padStart(5)} / ${m.peak.toFixed(0)}`);
    if (r.jsHeapMB) console.log(`JS heap at the end ${r.jsHeapMB.toFixed(0)} MB`);
    console.log(`load average at end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (timings are only comparable on a quiet machine)`);
  } finally {
    await s.close();
  }
}

main().catch((e) => {
  console.error(`browser bench failed: ${(e as Error).message}`);
  process.exit(1);
});
