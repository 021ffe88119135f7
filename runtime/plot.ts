/**
 * Dependency-free plotting: an RGB canvas, colour maps, image grids, simple line / bar plots and a
 * small bitmap font. Pixels only: the Node adapter encodes PNG files (runtime/node/png-file.ts),
 * the browser draws the pixels into a canvas.
 */
import { glyph, GLYPH_HEIGHT, GLYPH_WIDTH } from './font';

export type RGB = readonly [number, number, number];

export const WHITE: RGB = [255, 255, 255];
export const BLACK: RGB = [0, 0, 0];
export const GREY: RGB = [160, 160, 160];
export const LIGHT_GREY: RGB = [225, 225, 225];

/** Distinct series colours (matplotlib's tab10). */
export const PALETTE: readonly RGB[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

/**
 * Series k's colour: the palette's, then HSL colours with hues a golden angle apart, dark and light in
 * turn (saturation 0.8, lightness 0.35 and 0.65), so a chart of more than ten rows tells them apart.
 */
export function seriesColour(k: number): RGB {
  if (k < PALETTE.length) return PALETTE[k];
  const j = k - PALETTE.length;
  const h = (j * 0.381966 + 0.08) % 1;
  const l = j % 2 ? 0.35 : 0.65;
  const a = 0.8 * Math.min(l, 1 - l);
  const f = (n: number) => { const t = (n + h * 12) % 12; return Math.round(255 * (l - a * Math.max(-1, Math.min(t - 3, 9 - t, 1)))); };
  return [f(0), f(8), f(4)];
}

/** An RGB image (stored RGBA, alpha always 255). Coordinates outside are ignored on write. */
export class Canvas {
  readonly data: Uint8Array;

  constructor(readonly width: number, readonly height: number, background: RGB = WHITE) {
    if (!(width > 0 && height > 0 && Number.isInteger(width) && Number.isInteger(height))) throw new Error(`Canvas: bad size ${width}x${height}`);
    this.data = new Uint8Array(width * height * 4);
    this.fill(background);
  }

  fill(c: RGB): this {
    return this.fillRect(0, 0, this.width, this.height, c);
  }

  fillRect(x: number, y: number, w: number, h: number, c: RGB): this {
    const x0 = Math.max(0, Math.round(x)), y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w)), y1 = Math.min(this.height, Math.round(y + h));
    for (let j = y0; j < y1; j++) for (let i = x0; i < x1; i++) this.put(i, j, c);
    return this;
  }

  strokeRect(x: number, y: number, w: number, h: number, c: RGB): this {
    this.fillRect(x, y, w, 1, c).fillRect(x, y + h - 1, w, 1, c);
    return this.fillRect(x, y, 1, h, c).fillRect(x + w - 1, y, 1, h, c);
  }

  setPixel(x: number, y: number, c: RGB): this {
    const i = Math.round(x), j = Math.round(y);
    if (i >= 0 && j >= 0 && i < this.width && j < this.height) this.put(i, j, c);
    return this;
  }

  getPixel(x: number, y: number): RGB {
    const o = (y * this.width + x) * 4;
    return [this.data[o], this.data[o + 1], this.data[o + 2]];
  }

  /** Copies `src` with its top-left at (x, y) (resizeNearest scales). */
  blit(src: Canvas, x: number, y: number): this {
    for (let j = 0; j < src.height; j++) {
      for (let i = 0; i < src.width; i++) this.setPixel(x + i, y + j, src.getPixel(i, j));
    }
    return this;
  }

  /** Straight line (Bresenham), `thickness` pixels wide (square pen). */
  line(x0: number, y0: number, x1: number, y1: number, c: RGB, thickness = 1): this {
    let xa = Math.round(x0), ya = Math.round(y0);
    const xb = Math.round(x1), yb = Math.round(y1);
    const dx = Math.abs(xb - xa), dy = -Math.abs(yb - ya);
    const sx = xa < xb ? 1 : -1, sy = ya < yb ? 1 : -1;
    const lo = -Math.floor((thickness - 1) / 2), hi = lo + Math.max(1, Math.round(thickness));
    let err = dx + dy;
    for (;;) {
      for (let a = lo; a < hi; a++) for (let b = lo; b < hi; b++) this.setPixel(xa + a, ya + b, c);
      if (xa === xb && ya === yb) break;
      const e2 = 2 * err;
      if (e2 >= dy) { err += dy; xa += sx; }
      if (e2 <= dx) { err += dx; ya += sy; }
    }
    return this;
  }

  /** Draws text with the built-in bitmap font, top-left at (x, y), each font pixel scale×scale. */
  text(x: number, y: number, str: string, c: RGB = BLACK, scale = 1): this {
    let cx = Math.round(x);
    for (const ch of str) {
      const rows = glyph(ch);
      rows.forEach((row, j) => {
        for (let i = 0; i < row.length; i++) if (row[i] !== ' ') this.fillRect(cx + i * scale, y + j * scale, scale, scale, c);
      });
      cx += (GLYPH_WIDTH + 1) * scale;
    }
    return this;
  }

  /** Width in pixels of `str` drawn by text() at this scale. */
  static textWidth(str: string, scale = 1): number {
    return Math.max(0, [...str].length * (GLYPH_WIDTH + 1) * scale - scale);
  }

  static textHeight(scale = 1): number {
    return GLYPH_HEIGHT * scale;
  }

  private put(i: number, j: number, c: RGB): void {
    const o = (j * this.width + i) * 4;
    this.data[o] = c[0];
    this.data[o + 1] = c[1];
    this.data[o + 2] = c[2];
    this.data[o + 3] = 255;
  }
}

// ---------------------------------------------------------------------------------------------
// Colour maps: functions from a number to RGB. Inputs outside the domain are clamped.
// ---------------------------------------------------------------------------------------------

export type ColourMap = (t: number) => RGB;

const clamp = (v: number, lo: number, hi: number): number => (Number.isNaN(v) ? lo : Math.min(hi, Math.max(lo, v)));

export function lerpColour(a: RGB, b: RGB, t: number): RGB {
  const u = clamp(t, 0, 1);
  return [Math.round(a[0] + (b[0] - a[0]) * u), Math.round(a[1] + (b[1] - a[1]) * u), Math.round(a[2] + (b[2] - a[2]) * u)];
}

/** Piecewise-linear map through evenly spaced colour stops over [0, 1]. */
export function stops(colours: readonly RGB[]): ColourMap {
  return (t) => {
    const u = clamp(t, 0, 1) * (colours.length - 1);
    const k = Math.min(colours.length - 2, Math.floor(u));
    return lerpColour(colours[k], colours[k + 1], u - k);
  };
}

/**
 * A matplotlib colour map made of evenly spaced colours (`LinearSegmentedColormap.from_list`, 256
 * entries), in the bytes matplotlib draws: t picks entry ⌊256·t⌋ of its table, whose channels are
 * truncated; the table is interpolated in matplotlib's own arithmetic (`_create_lookup_table`), so
 * every byte is matplotlib's. Colours are given in bytes (a channel may be fractional).
 */
export function lookupMap(colours: readonly (readonly number[])[]): ColourMap {
  const n = colours.length - 1;
  // Knots and entries on matplotlib's scale of 255: x = 255·linspace(0, 1, n + 1), xind = 255·linspace(0, 1, 256).
  const x = (k: number) => 255 * (k === n ? 1 : k * (1 / n));
  const table = Array.from({ length: 256 }, (_, i): RGB => {
    const entry = (c: number) => {
      if (i === 0 || i === 255) return colours[i === 0 ? 0 : n][c] / 255;
      const at = 255 * (i * (1 / 255));
      let j = 1;
      while (x(j) < at) j++;
      const lo = colours[j - 1][c] / 255;
      return ((at - x(j - 1)) / (x(j) - x(j - 1))) * (colours[j][c] / 255 - lo) + lo;
    };
    return [0, 1, 2].map((c) => Math.trunc(clamp(entry(c), 0, 1) * 255)) as unknown as RGB;
  });
  return (t) => table[Math.min(255, Math.floor(clamp(t, 0, 1) * 256))];
}

/** [0, 1] → black … white. */
export const gray: ColourMap = (t) => {
  const v = Math.round(clamp(t, 0, 1) * 255);
  return [v, v, v];
};

/** [0, 1] → white … black (ink on paper). */
export const grayInk: ColourMap = (t) => gray(1 - clamp(t, 0, 1));

const RED_SIDE = stops([WHITE, [244, 165, 130], [214, 96, 77], [178, 24, 43], [103, 0, 31]]);
const BLUE_SIDE = stops([WHITE, [146, 197, 222], [67, 147, 195], [33, 102, 172], [5, 48, 97]]);

/** [-1, 1] → blue (negative) … white (0) … red (positive), after ColorBrewer RdBu. */
export const diverging: ColourMap = (t) => (t >= 0 ? RED_SIDE(t) : BLUE_SIDE(-t));

// ---------------------------------------------------------------------------------------------
// Arrays → images
// ---------------------------------------------------------------------------------------------

/** The q-th percentile (0..100, linear interpolation) of the values; NaN for no values. */
export function percentile(values: ArrayLike<number>, q: number): number {
  const v = Float64Array.from(values).filter((x) => !Number.isNaN(x)).sort();
  if (!v.length) return NaN;
  const pos = (clamp(q, 0, 100) / 100) * (v.length - 1);
  const k = Math.floor(pos);
  return k + 1 < v.length ? v[k] + (v[k + 1] - v[k]) * (pos - k) : v[k];
}

/** Scale for a symmetric colour range: the q-th percentile of |a| (falls back to max |a|, then 1). */
export function symmetricScale(values: ArrayLike<number>, q = 99): number {
  const abs = Array.from(values, Math.abs);
  const p = percentile(abs, q);
  if (p > 0) return p;
  const m = abs.reduce((a, b) => Math.max(a, b), 0);
  return m > 0 ? m : 1;
}

/** A width×height row-major array drawn through a colour map, each value divided by `scale` first. */
export function imageOf(values: ArrayLike<number>, width: number, height: number, map: ColourMap, scale = 1): Canvas {
  if (values.length < width * height) throw new Error(`imageOf: ${values.length} values for ${width}x${height}`);
  const c = new Canvas(width, height);
  for (let j = 0; j < height; j++) for (let i = 0; i < width; i++) c.setPixel(i, j, map(values[j * width + i] / scale));
  return c;
}

/** Heat map of signed values: diverging map, symmetric range at the q-th percentile of |a|. */
export function signedHeatmap(values: ArrayLike<number>, width: number, height: number, q = 99): Canvas {
  return imageOf(values, width, height, diverging, symmetricScale(values, q));
}

/** A horizontal colour bar of `map` over [from, to], `labels` spread evenly under it (the first at its left end, the last at its right; fewer where they would overlap). */
export function colourScale(map: ColourMap, from: number, to: number, labels: string[], width: number): Canvas {
  const out = new Canvas(width, 20);
  for (let i = 0; i < width; i++) out.fillRect(i, 0, 1, 8, map(from + ((to - from) * i) / Math.max(1, width - 1)));
  out.strokeRect(0, 0, width, 8, GREY);
  const placed = (texts: string[]) => texts.map((text, k) => {
    const w = Canvas.textWidth(text);
    return { text, w, x: k === texts.length - 1 ? width - 1 - w : k === 0 ? 0 : (k * (width - 1)) / (texts.length - 1) - w / 2 };
  });
  // Labels that would run together on a narrow bar: the ends alone, else the last (the value it saturates at).
  const last = labels.slice(-1);
  const fits = (row: ReturnType<typeof placed>) => row.every((l, k) => k === 0 || row[k - 1].x + row[k - 1].w + 2 <= l.x);
  // A label wider than the bar is left out: cut, "1.8e-5" would read "8e-5".
  const shown = [labels, [labels[0], ...last], last].map(placed).find(fits) ?? [];
  for (const { text, x, w } of shown) if (x >= 0 && x + w <= width) out.text(x, 12, text);
  return out;
}

/** `body` under a title in the font at twice its size. */
export function titled(title: string, body: Canvas): Canvas {
  const out = new Canvas(Math.max(body.width, Canvas.textWidth(title, 2)), body.height + 14);
  out.text(0, 0, title, BLACK, 2);
  return out.blit(body, 0, 14);
}

/** Resizes a canvas to width × height, nearest neighbour (each pixel shows the source pixel under its centre). */
export function resizeNearest(src: Canvas, width: number, height: number): Canvas {
  const out = new Canvas(width, height);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) out.setPixel(i, j, src.getPixel(Math.floor(((i + 0.5) * src.width) / width), Math.floor(((j + 0.5) * src.height) / height)));
  }
  return out;
}

/** Upscales a canvas by an integer factor (nearest neighbour). */
export function upscale(src: Canvas, factor: number): Canvas {
  const f = Math.max(1, Math.round(factor));
  return resizeNearest(src, src.width * f, src.height * f);
}

export interface GridOptions { pad?: number; background?: RGB }

/** Lays cells out in rows (ragged rows allowed), each column as wide as its widest cell, `pad` pixels apart. */
export function grid(rows: Canvas[][], options: GridOptions = {}): Canvas {
  const pad = options.pad ?? 8;
  const cols = Math.max(...rows.map((r) => r.length));
  const colW = Array.from({ length: cols }, (_, k) => Math.max(0, ...rows.map((r) => r[k]?.width ?? 0)));
  const rowH = rows.map((r) => Math.max(0, ...r.map((c) => c.height)));
  const width = colW.reduce((a, b) => a + b, 0) + pad * (cols + 1);
  const height = rowH.reduce((a, b) => a + b, 0) + pad * (rows.length + 1);
  const out = new Canvas(width, height, options.background ?? WHITE);
  let y = pad;
  rows.forEach((r, j) => {
    let x = pad;
    r.forEach((cell, k) => { out.blit(cell, x, y); x += colW[k] + pad; });
    y += rowH[j] + pad;
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Plots
// ---------------------------------------------------------------------------------------------

export interface PlotOptions {
  width?: number;
  height?: number;
  /** Space around the plot area, in pixels. */
  margin?: number;
  /** Data ranges; default: the data's extent (the y range always includes 0 for bar plots). */
  xRange?: [number, number];
  yRange?: [number, number];
  /** Number of tick intervals on each axis (0: none). */
  xTicks?: number;
  yTicks?: number;
  /** Faint horizontal line at y = 0 when 0 is inside the y range (default true). */
  zeroLine?: boolean;
  background?: RGB;
  axisColour?: RGB;
  /** Drawn above the plot area, at its left. */
  title?: string;
  /** Drawn under the x tick labels, at the right end of the axis. */
  xLabel?: string;
  /** Bar plots: the series share each category's slot (values of one sign each) instead of standing side by side. */
  overlay?: boolean;
  /** The least width of the y tick labels' column, so that plots stacked one above another line up. */
  yLabelWidth?: number;
}

export interface Series {
  y: ArrayLike<number>;
  /** x positions (default 0, 1, 2, …). */
  x?: ArrayLike<number>;
  colour?: RGB;
  thickness?: number;
  /** Shown in a legend right of the title. */
  label?: string;
}

/** Plot area with data→pixel mappings; draw more on `canvas` with `px`/`py`. */
export interface Axes {
  canvas: Canvas;
  left: number; top: number; right: number; bottom: number;
  xRange: [number, number]; yRange: [number, number];
  px(x: number): number;
  py(y: number): number;
}

function extent(values: number[], fallback: [number, number]): [number, number] {
  const v = values.filter(Number.isFinite);
  if (!v.length) return fallback;
  let lo = Math.min(...v), hi = Math.max(...v);
  if (lo === hi) { lo -= 0.5; hi += 0.5; }
  return [lo, hi];
}

/** A value in at most `digits` significant digits: 0, 0.12, 340, 1.2e+5. */
export function tickLabel(v: number, digits = 3): string {
  if (Number.isInteger(v) && Math.abs(v) < 1e4) return String(v);
  return Math.abs(v) >= 0.01 && Math.abs(v) < 10 ** digits ? String(Number(v.toPrecision(digits))) : Number(v.toPrecision(2)).toExponential().replace('e+', 'e');
}

/** About `count` round tick values (1, 2 or 5 × 10^k apart) inside [lo, hi], at least two where the range holds two. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(count > 0) || !(hi > lo)) return [];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10].map((f) => f * power);
  const at = (step: number) => {
    const ticks: number[] = [];
    for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(k * step + 0);
    return ticks;
  };
  let i = steps.findIndex((s) => s >= raw);
  while (i > 0 && at(steps[i]).length < 2) i--;
  return at(steps[i]);
}

const TEXT_LINE = Canvas.textHeight() + 4;

/**
 * Draws empty axes (left and bottom lines, tick marks at round values with their labels, optional
 * zero line, title and x label; a legend of the labelled `series` right of the title) and returns the mappings.
 */
export function axes(xRange: [number, number], yRange: [number, number], options: PlotOptions = {}, series: Series[] = []): Axes {
  const width = options.width ?? 480, height = options.height ?? 240, m = options.margin ?? 16;
  const canvas = new Canvas(width, height, options.background ?? WHITE);
  const axis = options.axisColour ?? BLACK;
  const [x0, x1] = xRange, [y0, y1] = yRange;
  const xTicks = niceTicks(x0, x1, options.xTicks ?? 5), yTicks = niceTicks(y0, y1, options.yTicks ?? 4);
  const yLabelWidth = Math.max(options.yLabelWidth ?? 0, ...yTicks.map((t) => Canvas.textWidth(tickLabel(t))));
  const labelled = series.map((s, k) => ({ label: s.label, colour: s.colour ?? seriesColour(k) })).filter((s) => s.label);
  const left = m + (yTicks.length ? yLabelWidth + 6 : 0), top = m + (options.title || labelled.length ? TEXT_LINE : 0);
  const right = width - m - 1, bottom = height - m - 1 - (xTicks.length ? TEXT_LINE : 0) - (options.xLabel ? TEXT_LINE : 0);
  const px = (x: number): number => left + ((x - x0) / (x1 - x0 || 1)) * (right - left);
  const py = (y: number): number => bottom - ((y - y0) / (y1 - y0 || 1)) * (bottom - top);
  if ((options.zeroLine ?? true) && y0 < 0 && y1 > 0) canvas.line(left, py(0), right, py(0), LIGHT_GREY);
  canvas.line(left, top, left, bottom, axis).line(left, bottom, right, bottom, axis);
  for (const t of xTicks) {
    const x = px(t), text = tickLabel(t);
    canvas.line(x, bottom, x, bottom + 3, axis).text(clamp(x - Canvas.textWidth(text) / 2, 0, width - Canvas.textWidth(text)), bottom + 5, text, axis);
  }
  for (const t of yTicks) {
    const y = py(t), text = tickLabel(t);
    canvas.line(left - 3, y, left, y, axis).text(left - 5 - Canvas.textWidth(text), Math.round(y - Canvas.textHeight() / 2), text, axis);
  }
  if (options.title) canvas.text(left, m - 2, options.title, axis);
  let x = right;
  for (const { label, colour } of [...labelled].reverse()) {
    x -= Canvas.textWidth(label!);
    canvas.text(x, m - 2, label!, axis).fillRect(x - 13, m - 1, 10, 3, colour);
    x -= 24;
  }
  if (options.xLabel) canvas.text(right - Canvas.textWidth(options.xLabel), bottom + 5 + (xTicks.length ? TEXT_LINE : 0), options.xLabel, axis);
  return { canvas, left, top, right, bottom, xRange, yRange, px, py };
}

/** One or more line series on shared axes. */
export function linePlot(series: Series[], options: PlotOptions = {}): Canvas {
  const xsOf = (s: Series): number[] => (s.x ? Array.from(s.x) : Array.from({ length: s.y.length }, (_, i) => i));
  const xr = options.xRange ?? extent(series.flatMap(xsOf), [0, 1]);
  const yr = options.yRange ?? extent(series.flatMap((s) => Array.from(s.y)), [0, 1]);
  const ax = axes(xr, yr, options, series);
  series.forEach((s, k) => {
    const colour = s.colour ?? seriesColour(k);
    const xs = xsOf(s);
    let prev: [number, number] | undefined;
    for (let i = 0; i < s.y.length; i++) {
      const y = s.y[i];
      if (!Number.isFinite(y) || !Number.isFinite(xs[i])) { prev = undefined; continue; }
      const p: [number, number] = [ax.px(xs[i]), ax.py(clamp(y, yr[0], yr[1]))];
      if (prev) ax.canvas.line(prev[0], prev[1], p[0], p[1], colour, s.thickness ?? 2);
      else ax.canvas.line(p[0], p[1], p[0], p[1], colour, s.thickness ?? 2);
      prev = p;
    }
  });
  return ax.canvas;
}

/** Grouped bars: category i holds one bar per series, bars grow from 0 (negative values go down). */
export function barPlot(series: Series[], options: PlotOptions = {}): Canvas {
  const n = Math.max(0, ...series.map((s) => s.y.length));
  const all = series.flatMap((s) => Array.from(s.y));
  const [lo, hi] = options.yRange ?? extent([0, ...all], [0, 1]);
  // Category i is centred on x = i, so ticks label categories.
  const ax = axes([-0.5, Math.max(1, n) - 0.5], [lo, hi], options, series);
  const slot = (ax.right - ax.left) / Math.max(1, n);
  const gap = Math.max(1, Math.floor(slot * 0.15));
  const side = options.overlay ? 1 : Math.max(1, series.length);
  const barW = Math.max(1, (slot - 2 * gap) / side);
  const base = ax.py(clamp(0, lo, hi));
  series.forEach((s, k) => {
    const colour = s.colour ?? seriesColour(k);
    for (let i = 0; i < s.y.length; i++) {
      if (!Number.isFinite(s.y[i]) || s.y[i] === 0) continue;
      const x = ax.left + i * slot + gap + (options.overlay ? 0 : k * barW);
      const y = ax.py(clamp(s.y[i], lo, hi));
      // Bars stand on the axis line (drawn at `base`) from above or hang from it below, at least a pixel tall.
      ax.canvas.fillRect(x + 1, s.y[i] > 0 ? Math.min(y, base - 1) : base + 1, Math.max(1, barW - 1), Math.max(1, Math.abs(base - y)), colour);
    }
  });
  ax.canvas.line(ax.left, base, ax.right, base, options.axisColour ?? BLACK);
  ax.canvas.line(ax.left, ax.top, ax.left, ax.bottom, options.axisColour ?? BLACK);
  return ax.canvas;
}
