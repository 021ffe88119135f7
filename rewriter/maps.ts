import { buildCam, MapSpec } from './cam';
import { buildGradCam, buildGuidedGradCam } from './grad-cam';
import { ModelProto } from './proto';

/** Methods computed by one graph that is not a rule-table backward walk to the input: class activation maps. */
export const mapMethods: Record<string, (spec: MapSpec) => ModelProto> = {
  cam: buildCam,
  'grad-cam': buildGradCam,
  'guided-grad-cam': buildGuidedGradCam,
};
