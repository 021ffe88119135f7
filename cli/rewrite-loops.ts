import { ExplainError } from '../rewriter/errors';
import { ModelProto } from '../rewriter/proto';
import { contrastModels, loadGenerator } from '../runtime/contrastive';
import { maximizationGraph } from '../runtime/drivers/maximize';
import { Explainer } from '../runtime';
import { Parsed } from './args';
import { feedFiles, feeds, modelArg, provider, shapeArg } from './main';
import { objectiveFlags, OBJECTIVE_FLAGS, optimisedModel, OPTIMISED_INPUT_FLAGS } from './maximize';
import { lookupTable } from '../rewriter/lookup-table';

/** Flags `rewrite` takes for the loop methods, besides its own. */
export const LOOP_REWRITE_FLAGS = { ...OBJECTIVE_FLAGS, classifier: true, generator: true, 'generator-feed': true };

/** The graph one step of an optimisation loop runs, and the files it was built from; the flags it reads besides --method, --out and --provider. */
interface LoopGraph { flags: Record<string, boolean>; build(p: Parsed): Promise<{ model: ModelProto; sources: string[] }> }

const CONTRAST_FLAGS = { classifier: true, generator: true, 'generator-feed': true, output: true };

const contrastGraph = async (p: Parsed) => {
  if (p.positional.length) throw new ExplainError(`rewrite: unexpected argument '${p.positional[0]}' (for --method ${p.flags.get('method')} the models are given with --classifier and --generator)`);
  const [classifier, generator] = ['classifier', 'generator'].map((flag) => {
    const v = p.flags.get(flag);
    if (typeof v !== 'string') throw new ExplainError(`rewrite: --method ${p.flags.get('method')} needs --${flag}`);
    return v;
  });
  const generatorFeeds = feeds(p.flags.get('generator-feed') as string | undefined, '--generator-feed');
  const models = await contrastModels(await Explainer.load(classifier, { provider: provider(p) }), await loadGenerator(generator, { provider: provider(p), generatorFeeds }), p.flags.get('output') as string | undefined);
  return { model: models.constrained, sources: [classifier, generator, ...feedFiles(p, 'generator-feed')] };
};

/** `rewrite --method M` for the loop methods (runtime/drivers): the objective and its gradient as one graph. */
export const LOOP_GRAPHS: Record<string, LoopGraph> = lookupTable({
  maximize: {
    flags: { ...OBJECTIVE_FLAGS, ...OPTIMISED_INPUT_FLAGS, shape: true },
    async build(p) {
      const model = modelArg(p, 'rewrite');
      const objective = objectiveFlags(p);
      const { ex, feeds } = await optimisedModel(p, model, 'rewrite --method maximize');
      const rowDims = shapeArg(p, ex).slice(1);
      // Inputs whose values set shapes (token ids picking <eos> positions) are probed with --feed's values, as rewrite's other graphs.
      return { model: await ex.forFeeds(rowDims, feeds, () => maximizationGraph(ex, { ...objective, feeds }, rowDims)), sources: [model, ...feedFiles(p)] };
    },
  },
  // One graph for both: xGEMs feeds `others` = 0 (no inequality terms).
  cdeepex: { flags: CONTRAST_FLAGS, build: contrastGraph },
  xgems: { flags: CONTRAST_FLAGS, build: contrastGraph },
});

/** Flags `rewrite --method M` does not read: a loop method's, the others', and an attribution method's, the loops'. */
export function checkRewriteFlags(p: Parsed, method: string): void {
  const loop = LOOP_GRAPHS[method];
  const own = (f: string) => ['method', 'out', 'provider', 'help'].includes(f) || (loop ? f in loop.flags : !(f in LOOP_REWRITE_FLAGS) || ['output', 'layer'].includes(f));
  const stray = [...p.flags.keys()].filter((f) => !own(f)).map((f) => `--${f}`);
  if (!stray.length) return;
  const reads = loop ? `it reads ${Object.keys(loop.flags).map((f) => `--${f}`).join(', ')}` : 'they set the objective of --method maximize, cdeepex or xgems; an attribution graph takes its seed (what is explained) as an input';
  throw new ExplainError(`rewrite --method ${method}: ${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} not read (${reads})`);
}
