import { buildCam, MapSpec } from './cam';
import { buildGradCam, buildGuidedGradCam } from './grad-cam';
import { ModelProto } from './proto';
import { lookupTable } from './lookup-table';

/** Methods computed by one graph that is not a rule-table backward walk to the input: class activation maps. */
const mapBuilders = lookupTable({
  cam: buildCam,
  'grad-cam': buildGradCam,
  'guided-grad-cam': buildGuidedGradCam,
});

export type MapMethodName = keyof typeof mapBuilders;

export const mapMethods: Record<string, (spec: MapSpec) => ModelProto> = mapBuilders;
