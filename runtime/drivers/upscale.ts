/** Bilinear resize of every [H, W] plane of a [..., H, W] row (half-pixel centres, as Resize 'linear'). */
export function resizePlanes(x: Float32Array, planes: number, h: number, w: number, H: number, W: number): Float32Array {
  const out = new Float32Array(planes * H * W);
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < H; y++) {
      const fy = Math.min(Math.max((y + 0.5) * (h / H) - 0.5, 0), h - 1);
      const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, h - 1), wy = fy - y0;
      for (let xx = 0; xx < W; xx++) {
        const fx = Math.min(Math.max((xx + 0.5) * (w / W) - 0.5, 0), w - 1);
        const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, w - 1), wx = fx - x0;
        const at = (yy: number, xq: number) => x[p * h * w + yy * w + xq];
        out[p * H * W + y * W + xx] = (1 - wy) * ((1 - wx) * at(y0, x0) + wx * at(y0, x1)) + wy * ((1 - wx) * at(y1, x0) + wx * at(y1, x1));
      }
    }
  }
  return out;
}

/** Separable Gaussian blur (σ in pixels, kernel radius ⌈3σ⌉, edges clamped) of every [H, W] plane. */
export function blurPlanes(x: Float32Array, planes: number, h: number, w: number, sigma: number): Float32Array {
  if (sigma <= 0) return x;
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const total = k.reduce((a, b) => a + b, 0);
  const kernel = k.map((v) => v / total);
  const pass = (src: Float32Array, along: 'x' | 'y') => {
    const dst = new Float32Array(src.length);
    for (let p = 0; p < planes; p++) {
      for (let y = 0; y < h; y++) {
        for (let xx = 0; xx < w; xx++) {
          let s = 0;
          for (let i = -r; i <= r; i++) {
            const yy = along === 'y' ? Math.min(h - 1, Math.max(0, y + i)) : y;
            const xq = along === 'x' ? Math.min(w - 1, Math.max(0, xx + i)) : xx;
            s += kernel[i + r] * src[p * h * w + yy * w + xq];
          }
          dst[p * h * w + y * w + xx] = s;
        }
      }
    }
    return dst;
  };
  return pass(pass(x, 'x'), 'y');
}

/** A channels-last [H, W, C] row as C planes [C, H, W] (`back`: the planes as [H, W, C]). */
export function planesOf(x: Float32Array, h: number, w: number, c: number, back = false): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < h * w; i++) for (let k = 0; k < c; k++) {
    if (back) out[i * c + k] = x[k * h * w + i];
    else out[k * h * w + i] = x[i * c + k];
  }
  return out;
}
