const ids = new WeakMap<object, number>();
let lastId = 0;

/**
 * A number per object, for the keys of sessions built from it: a Prepared stands for the input
 * shapes, the fed inputs' shapes and the graph prepared for them (loops unrolled to their lengths).
 */
export function objectKey(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = ++lastId));
  return id;
}
