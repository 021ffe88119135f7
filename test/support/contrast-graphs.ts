import { Explainer } from '../../runtime';
import { contrastModels } from '../../runtime/contrastive';
import { ContrastGraphs } from '../../runtime/drivers/cdeepex';
import { LoopSession } from '../../runtime/drivers/loop-session';

/** The loop sessions of a classifier/generator pair, held by the test (ContrastiveExplainer holds them through its Explainers). */
export async function prepareContrastGraphs(d: Explainer, g: Explainer, output?: string): Promise<ContrastGraphs> {
  const m = await contrastModels(d, g, output);
  return { ...m, reconstruction: await LoopSession.create(m.reconstruction, g), constrained: await LoopSession.create(m.constrained, d) };
}
