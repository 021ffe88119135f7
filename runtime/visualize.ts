import { checkKnown } from './known-options';
import { ExplainError } from '../rewriter/errors';
import { AttributionLayout, attributionLayout, channelSum, Rgb } from './image';
import { barPlot, BLACK, Canvas, ColourMap, colourScale, grid, lerpColour, lookupMap, resizeNearest, RGB, tickLabel, titled, WHITE } from './plot';
import { argmax } from './targets';
import { TensorData } from './tensors';

/** Captum's `visualize_image_attr` methods and signs. */
export const VIS_METHODS = ['heat_map', 'blended_heat_map', 'masked_image', 'alpha_scaling'] as const;
export const VIS_SIGNS = ['positive', 'negative', 'absolute', 'all'] as const;
export type VisMethod = (typeof VIS_METHODS)[number];
export type VisSign = (typeof VIS_SIGNS)[number];

export interface VisualizeOptions {
  /** Default blended_heat_map where the input image is shown, heat_map otherwise. */
  method?: VisMethod;
  /** Default absolute (Captum's absolute_value). */
  sign?: VisSign;
  /** Share of the attribution mass (cumulative, in %) saturated at the top of the colour scale (default 2, as Captum; images only). */
  outlierPerc?: number;
  /** Display size of an image panel's longer side in pixels (default 224; nearest-neighbour resizing). */
  size?: number;
  /** Opacity of the heat map in blended_heat_map (default 0.5, Captum's alpha_overlay). */
  alpha?: number;
  /** Rows of the batch drawn (default the first 16). */
  maxRows?: number;
}

/** One column of a figure: a method's attributions for every row of the batch. */
export interface VisColumn { title: string; attributions: TensorData }

export interface Figure {
  columns: VisColumn[];
  /** The inputs as displayable pixels, one per row (images only): shown in a first column and under blended maps. */
  images?: (Rgb | undefined)[];
  /** One caption per row (target, prediction, probability). */
  captions?: string[];
}

// Captum's colour maps: matplotlib's Greens, Reds and Blues (ColorBrewer's nine colours) for one sign,
// its own red-white-green over [−1, 1] for both.
const GREENS = lookupMap([[247, 252, 245], [229, 245, 224], [199, 233, 192], [161, 217, 155], [116, 196, 118], [65, 171, 93], [35, 139, 69], [0, 109, 44], [0, 68, 27]]);
// matplotlib holds Reds' last two blues a rounding below 21/255 and 13/255.
const REDS = lookupMap([[255, 245, 240], [254, 224, 210], [252, 187, 161], [252, 146, 114], [251, 106, 74], [239, 59, 44], [203, 24, 29], [165, 15, 0.08235294117647057 * 255], [103, 0, 0.05098039215686274 * 255]]);
const BLUES = lookupMap([[247, 251, 255], [222, 235, 247], [198, 219, 239], [158, 202, 225], [107, 174, 214], [66, 146, 198], [33, 113, 181], [8, 81, 156], [8, 48, 107]]);
const RED_WHITE_GREEN_01 = lookupMap([[255, 0, 0], WHITE, [0, 128, 0]]);
const RED_WHITE_GREEN: ColourMap = (t) => RED_WHITE_GREEN_01((t + 1) / 2);
const COLOUR_MAPS: Record<VisSign, ColourMap> = { all: RED_WHITE_GREEN, positive: GREENS, negative: REDS, absolute: BLUES };

/** Captum's _cumulative_sum_threshold: the smallest sorted value where the running sum reaches `percentile` % of the total. */
export function cumulativeSumThreshold(values: ArrayLike<number>, percentile: number): number {
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  for (const v of sorted) total += v;
  let run = 0;
  for (const v of sorted) {
    run += v;
    if (run >= total * 0.01 * percentile) return v;
  }
  return sorted[sorted.length - 1] ?? 0;
}

/** The values a sign shows: all of them, the positive or negative part, or magnitudes. */
function keptBySign(summed: ArrayLike<number>, sign: VisSign): Float32Array {
  return Float32Array.from(summed, (v) => (sign === 'all' ? v : sign === 'positive' ? Math.max(v, 0) : sign === 'negative' ? Math.min(v, 0) : Math.abs(v)));
}

/**
 * Captum's _normalize_attr on channel-summed attributions: keeps the sign's part, scales by the
 * cumulative-sum threshold at 100 − outlierPerc and clips to [−1, 1] ([0, 1] for one sign).
 * `threshold` is the attribution value the colour scale saturates at (negative for sign 'negative').
 */
export function normalizeAttr(summed: ArrayLike<number>, sign: VisSign, outlierPerc: number): { norm: Float32Array; threshold: number } {
  const kept = keptBySign(summed, sign);
  const magnitude = Float32Array.from(kept, Math.abs);
  const t = cumulativeSumThreshold(magnitude, 100 - outlierPerc);
  const threshold = sign === 'negative' ? -t : t;
  // A threshold of 0 (--outlier-perc 100 where some value is 0; Captum refuses it) saturates every other value.
  const norm = Float32Array.from(kept, (v) => (threshold === 0 ? (sign === 'all' ? Math.sign(v) : Math.abs(Math.sign(v))) : Math.min(1, Math.max(-1, v / threshold))));
  return { norm, threshold };
}

/** The input's channel mean, stretched to its own range: the grey a blended map lies over (matplotlib's `imshow(…, cmap="gray")`). */
function stretchedGrey(image: Rgb): Uint8Array {
  const mean = Float32Array.from({ length: image.width * image.height }, (_, i) => [0, 1, 2].reduce((a, c) => a + Math.min(1, Math.max(0, image.data[i * 3 + c])), 0) / 3);
  let lo = Infinity, hi = -Infinity;
  for (const v of mean) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return Uint8Array.from(mean, (v) => (hi > lo ? Math.min(255, Math.floor(((v - lo) / (hi - lo)) * 256)) : 0));
}

/** One rendered panel: pixels resized to `size` on the longer side. */
function imagePanel(norm: Float32Array, w: number, h: number, image: Rgb | undefined, method: VisMethod, sign: VisSign, alpha: number, size: number): Canvas {
  const map = COLOUR_MAPS[sign];
  const grey = image && method === 'blended_heat_map' ? stretchedGrey(image) : undefined;
  const c = new Canvas(w, h);
  for (let i = 0; i < w * h; i++) {
    const v = norm[i];
    const px: RGB = image ? [image.data[i * 3], image.data[i * 3 + 1], image.data[i * 3 + 2]].map((x) => Math.round(255 * Math.min(1, Math.max(0, x)))) as unknown as RGB : WHITE;
    let out: RGB;
    if (method === 'heat_map' || !grey && method === 'blended_heat_map') out = map(v);
    else if (grey) out = lerpColour([grey[i], grey[i], grey[i]], map(v), alpha);
    else if (method === 'masked_image') out = lerpColour(BLACK, px, Math.abs(v));
    else out = lerpColour(WHITE, px, Math.abs(v));
    c.setPixel(i % w, Math.floor(i / w), out);
  }
  const scale = size / Math.max(w, h);
  return resizeNearest(c, Math.max(1, Math.round(w * scale)), Math.max(1, Math.round(h * scale)));
}

/** The sign's colour map under a panel, labelled with the attribution values at its ends (and 0). */
function signScale(sign: VisSign, threshold: number, width: number): Canvas {
  return sign === 'all'
    ? colourScale(COLOUR_MAPS.all, -1, 1, [tickLabel(-threshold, 2), '0', tickLabel(threshold, 2)], width)
    : colourScale(COLOUR_MAPS[sign], 0, 1, ['0', tickLabel(threshold, 2)], width);
}

/** Per-position bar plot for 1-D inputs (DeepLIFT's genomics figures): Σ over channels as the sign keeps it (keptBySign), green up, red down. */
function sequencePanel(kept: Float32Array, size: number): Canvas {
  const positive = Float32Array.from(kept, (v) => (v > 0 ? v : 0));
  const negative = Float32Array.from(kept, (v) => (v < 0 ? v : 0));
  // Rows' panels line up: their y labels get the width of the longest a tick can take.
  return barPlot([{ y: positive, colour: [0, 128, 0] }, { y: negative, colour: [255, 0, 0] }], { width: Math.max(size * 2, Math.min(1600, kept.length * 6)), height: size / 2, overlay: true, yLabelWidth: Canvas.textWidth('-1.5e-12') });
}

function stacked(parts: Canvas[]): Canvas {
  const out = new Canvas(Math.max(...parts.map((p) => p.width)), parts.reduce((a, p) => a + p.height + 4, -4));
  let y = 0;
  for (const p of parts) { out.blit(p, 0, y); y += p.height + 4; }
  return out;
}

/**
 * One caption per row (one target each): the target, the predicted class and their probabilities — the scores' softmax,
 * or the scores themselves where they are probabilities already (`isProbability`). A row of one score (a
 * binary classifier's Sigmoid, a regression) has no class to pick: its caption gives that score.
 */
export function rowCaptions(scores: TensorData, targets: number[], isProbability = false): string[] {
  const per = scores.data.length / targets.length;
  return targets.map((t, row) => {
    const s = Array.from(scores.data.subarray(row * per, (row + 1) * per));
    if (per === 1) return `row ${row}: target ${t} (${isProbability ? `p ${probability(s[0])}` : `value ${s[0].toFixed(3)}`})`;
    const probs = isProbability ? s : softmax(s);
    const pred = argmax(probs);
    return `row ${row}: target ${t} (p ${probability(probs[t])}) pred ${pred} (p ${probability(probs[pred])})`;
  });
}

/** Two decimals; two digits below 0.01 (a prediction among 1,000 classes at 0.0015 is no 0.00). */
const probability = (p: number) => (p > 0 && p < 0.005 ? p.toPrecision(2) : p.toFixed(2));

function softmax(v: number[]): number[] {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/** What columns must share besides the rows (channels are summed away). */
const extent = (l: AttributionLayout) => (l.kind === 'image' ? `image ${l.height}x${l.width}` : `sequence ${l.length}`);

const VISUALIZE_KEYS: Record<keyof VisualizeOptions, true> = { method: true, sign: true, outlierPerc: true, size: true, alpha: true, maxRows: true };

/** The options' names and values, checked before any work (the CLI checks them before computing attributions). */
export function checkVisualizeOptions(options: VisualizeOptions): void {
  checkKnown('visualize', options, VISUALIZE_KEYS);
  const { method, sign = 'absolute', outlierPerc = 2, size = 224, alpha = 0.5, maxRows } = options;
  if (!(outlierPerc >= 0 && outlierPerc <= 100)) throw new ExplainError(`visualize: outlier percentage ${outlierPerc} must be in [0, 100]`);
  if (!(size >= 8 && size <= 4096)) throw new ExplainError(`visualize: display size ${size} must be between 8 and 4096 pixels`);
  if (method !== undefined && !VIS_METHODS.includes(method)) throw new ExplainError(`visualize: method '${method}' is not one of ${VIS_METHODS.join(', ')}`);
  if (!VIS_SIGNS.includes(sign)) throw new ExplainError(`visualize: sign '${sign}' is not one of ${VIS_SIGNS.join(', ')}`);
  // As Captum's visualize_image_attr: a mask or an opacity has no sign.
  if ((method === 'masked_image' || method === 'alpha_scaling') && sign === 'all') throw new ExplainError(`visualize: ${method} needs sign positive, negative or absolute (a mask or an opacity cannot be signed)`);
  if (!(alpha >= 0 && alpha <= 1)) throw new ExplainError(`visualize: alpha ${alpha} must be in [0, 1]`);
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows >= 1)) throw new ExplainError(`visualize: maxRows ${maxRows} is not a positive integer`);
}

/** What a figure of this kind can draw: sequences are bars to scale; masks and opacities need each drawn row's image. */
export function checkFigureKind(kind: AttributionLayout['kind'], images: readonly (Rgb | undefined)[] | undefined, rows: number, options: VisualizeOptions): void {
  if (kind === 'sequence') {
    const given = [options.method !== undefined && 'the method (--vis-method)', options.outlierPerc !== undefined && 'outlierPerc (--outlier-perc)'].filter(Boolean);
    if (given.length) throw new ExplainError(`visualize: ${given.join(' and ')} appl${given.length > 1 ? 'y' : 'ies'} to image maps; a sequence is drawn as per-position bars to scale`);
  } else if ((options.method === 'masked_image' || options.method === 'alpha_scaling') && !Array.from({ length: rows }, (_, r) => images?.[r]).every(Boolean)) {
    throw new ExplainError(`visualize: ${options.method} needs the input image`);
  }
}

/**
 * A figure like Captum's visualize_image_attr (and FeatureVis Fig. 3 for several methods): one row
 * per batch row, an "input" column where images are given, then one panel per method, each with its
 * colour scale; images are channel-summed maps, 1-D inputs per-position bar plots.
 */
export function visualize(figure: Figure, options: VisualizeOptions = {}): Canvas {
  checkVisualizeOptions(options);
  const sign = options.sign ?? 'absolute';
  const size = options.size ?? 224;
  const outlier = options.outlierPerc ?? 2;
  const alpha = options.alpha ?? 0.5;
  if (!Array.isArray(figure?.columns)) throw new ExplainError('visualize: the figure\'s columns must be a list of { title, attributions }');
  const first = figure.columns[0]?.attributions;
  if (!first) throw new ExplainError('visualize: nothing to draw');
  for (const col of figure.columns) {
    if (typeof col?.title !== 'string' || !Array.isArray(col.attributions?.dims) || !col.attributions.data) throw new ExplainError('visualize: each column is { title: string, attributions: { data, dims } }');
    const count = col.attributions.dims.reduce((a, d) => a * d, 1);
    if (col.attributions.data.length !== count) throw new ExplainError(`visualize: column '${col.title}' has ${col.attributions.data.length} values but shape [${col.attributions.dims}] needs ${count}`);
  }
  const layout = attributionLayout(first.dims);
  const rows = Math.min(first.dims[0], options.maxRows ?? 16);
  const images = layout.kind === 'image' ? figure.images : undefined;
  // Each image is drawn under its row's map pixel for pixel.
  if (layout.kind === 'image') images?.forEach((image, r) => {
    if (image && (image.width !== layout.width || image.height !== layout.height || image.data?.length !== layout.width * layout.height * 3)) {
      throw new ExplainError(`visualize: image ${r} is ${image.width}×${image.height} with ${image.data?.length} values; the maps are ${layout.width}×${layout.height}, so it must be that size with ${layout.width * layout.height * 3} values (RGB, height × width × 3)`);
    }
  });
  checkFigureKind(layout.kind, images, rows, options);
  const method = options.method ?? (images?.some(Boolean) ? 'blended_heat_map' : 'heat_map');
  const body: Canvas[][] = [];
  for (let r = 0; r < rows; r++) {
    const cells: Canvas[] = [];
    const image = images?.[r];
    if (image) {
      const shown = new Float32Array(image.width * image.height).fill(1);
      cells.push(titled('input', imagePanel(shown, image.width, image.height, image, 'alpha_scaling', 'absolute', 1, size)));
    }
    for (const col of figure.columns) {
      const own = attributionLayout(col.attributions.dims);
      if (col.attributions.dims[0] !== first.dims[0] || extent(own) !== extent(layout)) throw new ExplainError(`visualize: column '${col.title}' has shape [${col.attributions.dims}], which does not match [${first.dims}] (rows and ${layout.kind === 'image' ? 'height × width' : 'length'}); upsample maps to the input size`);
      const summed = channelSum(col.attributions, r, own);
      if (layout.kind === 'sequence') {
        const kept = keptBySign(summed, sign);
        const top = kept.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
        cells.push(titled(`${col.title} (max |a| ${top.toPrecision(2)})`, sequencePanel(kept, size)));
        continue;
      }
      const { norm, threshold } = normalizeAttr(summed, sign, outlier);
      const panel = imagePanel(norm, layout.width, layout.height, image, method, sign, alpha, size);
      // As Captum: a colour bar under heat maps only (masks and opacities use no colour map).
      const heat = method === 'heat_map' || method === 'blended_heat_map';
      cells.push(titled(col.title, heat ? stacked([panel, signScale(sign, threshold, panel.width)]) : panel));
    }
    const caption = figure.captions?.[r] === undefined ? undefined : String(figure.captions[r]);
    body.push(caption ? [titled(caption, grid([cells], { pad: 8 }))] : cells);
  }
  return grid(body, { pad: 8 });
}
