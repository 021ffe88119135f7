/** Options a method cannot run without whatever the model: lrp-epsilon-gamma-box's z^B bounds (here −1 and 1). */
export function methodNeeds(method: string): { boxLow?: number; boxHigh?: number } {
  return method === 'lrp-epsilon-gamma-box' ? { boxLow: -1, boxHigh: 1 } : {};
}
