import { ExplainError } from '../rewriter/errors';
import { ModelProto } from '../rewriter/proto';
import { contrastModels, loadGenerator } from '../runtime/contrastive';
import { maximizationGraph } from '../runtime/drivers/maximize';
import { Explainer } from '../runtime';
import { Parsed } from './args';
import { feedFiles, feeds, modelArg, provider, shapeArg } from './main';
import { objectiveFlags, OBJECTIVE_FLAGS } from './maximize';
import { lookupTable } from '../rewriter/lookup-table';

/** Flags `rewrite` takes for the loop methods, besides its own. */
export const LOOP_REWRITE_FLAGS = { ...OBJECTIVE_FLAGS, classifier: true, generator: true, 'generator-feed': true };

/** The graph one step of an optimisation loop runs, and the files it was built from. */
type LoopGraph = (p: Parsed) => Promise<{ model: ModelProto; sources: string[] }>;

const contrastGraph: LoopGraph = async (p) => {
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
  maximize: async (p) => {
    const model = modelArg(p, 'rewrite');
    const objective = objectiveFlags(p);
    const ex = await Explainer.load(model, { provider: provider(p) });
    return { model: await maximizationGraph(ex, objective, shapeArg(p, ex).slice(1)), sources: [model] };
  },
  // One graph for both: xGEMs feeds `others` = 0 (no inequality terms).
  cdeepex: contrastGraph,
  xgems: contrastGraph,
});
