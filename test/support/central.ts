/** Central differences (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h of element pick(i) of f's output, for each element i of x. */
export async function centralDifferences(x: Float32Array, h: number, f: (x: Float32Array) => Promise<ArrayLike<number>>, pick: (i: number) => number): Promise<Float32Array> {
  const fd = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const [up, down] = [Float32Array.from(x), Float32Array.from(x)];
    up[i] += h;
    down[i] -= h;
    fd[i] = ((await f(up))[pick(i)] - (await f(down))[pick(i)]) / (2 * h);
  }
  return fd;
}
