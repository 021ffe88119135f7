import { checkKnown } from './known-options';
import { ExplainError } from '../rewriter/errors';
import { AttributionLayout, attributionLayout, channelSum, Rgb } from './image';
import { barPlot, BLACK, Canvas, ColourMap, colourScale, grid, lerpColour, RGB, stops, tickLabel, titled, WHITE } from './plot';
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
  /** Share of the attribution mass (cumulative, in %) saturated at the top of the colour scale (default 2, as Captum). */
  outlierPerc?: number;
  /** Display size of an image panel's longer side in pixels (default 224; nearest-neighbour upscaling). */
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

// matplotlib's sequential maps (approximated) and Captum's red-white-green map for signed values.
const GREENS = stops([[247, 252, 245], [199, 233, 192], [116, 196, 118], [35, 139, 69], [0, 68, 27]]);
const REDS = stops([[255, 245, 240], [252, 187, 161], [251, 106, 74], [203, 24, 29], [103, 0, 13]]);
const BLUES = stops([[247, 251, 255], [198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]]);
const RED_WHITE_GREEN: ColourMap = (t) => (t >= 0 ? lerpColour(WHITE, [0, 128, 0], t) : lerpColour(WHITE, [255, 0, 0], -t));
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

/**
 * Captum's _normalize_attr on channel-summed attributions: keeps the sign's part, scales by the
 * cumulative-sum threshold at 100 − outlierPerc and clips to [−1, 1] ([0, 1] for one sign).
 * `threshold` is the attribution value the colour scale saturates at (negative for sign 'negative').
 */
export function normalizeAttr(summed: ArrayLike<number>, sign: VisSign, outlierPerc: number): { norm: Float32Array; threshold: number } {
  const kept = Float32Array.from(summed, (v) => (sign === 'all' ? v : sign === 'positive' ? Math.max(v, 0) : sign === 'negative' ? Math.min(v, 0) : Math.abs(v)));
  const magnitude = Float32Array.from(kept, Math.abs);
  const t = cumulativeSumThreshold(magnitude, 100 - outlierPerc);
  const threshold = sign === 'negative' ? -t : t;
  const norm = Float32Array.from(kept, (v) => (threshold === 0 ? 0 : Math.min(1, Math.max(-1, v / threshold))));
  return { norm, threshold };
}

/** One rendered panel: pixels at display size plus the colour scale that goes under it. */
function imagePanel(norm: Float32Array, w: number, h: number, image: Rgb | undefined, method: VisMethod, sign: VisSign, alpha: number, size: number): Canvas {
  if ((method === 'masked_image' || method === 'alpha_scaling') && !image) throw new ExplainError(`visualize: ${method} needs the input image`);
  if (method === 'masked_image' && sign === 'all') throw new ExplainError(`visualize: masked_image needs sign positive, negative or absolute (a mask cannot be signed)`);
  const map = COLOUR_MAPS[sign];
  const c = new Canvas(w, h);
  for (let i = 0; i < w * h; i++) {
    const v = norm[i];
    const px: RGB = image ? [image.data[i * 3], image.data[i * 3 + 1], image.data[i * 3 + 2]].map((x) => Math.round(255 * Math.min(1, Math.max(0, x)))) as unknown as RGB : WHITE;
    const gray = Math.round((px[0] + px[1] + px[2]) / 3);
    let out: RGB;
    if (method === 'heat_map') out = map(v);
    else if (method === 'blended_heat_map') out = lerpColour([gray, gray, gray], map(v), image ? alpha : 1);
    else if (method === 'masked_image') out = lerpColour(BLACK, px, Math.abs(v));
    else out = lerpColour(WHITE, px, Math.abs(v));
    c.setPixel(i % w, Math.floor(i / w), out);
  }
  const factor = Math.max(1, Math.floor(size / Math.max(w, h)));
  return factor > 1 ? new Canvas(w * factor, h * factor).blit(c, 0, 0, factor) : c;
}

/** The sign's colour map under a panel, labelled with the attribution values at its ends (and 0). */
function signScale(sign: VisSign, threshold: number, width: number): Canvas {
  return sign === 'all'
    ? colourScale(COLOUR_MAPS.all, -1, 1, [tickLabel(-threshold, 2), '0', tickLabel(threshold, 2)], width)
    : colourScale(COLOUR_MAPS[sign], 0, 1, ['0', tickLabel(threshold, 2)], width);
}

/** Per-position bar plot for 1-D inputs (DeepLIFT's genomics figures): Σ over channels, green up, red down. */
function sequencePanel(summed: Float32Array, sign: VisSign, size: number): Canvas {
  const kept = Float32Array.from(summed, (v) => (sign === 'all' ? v : sign === 'positive' ? Math.max(v, 0) : sign === 'negative' ? Math.min(v, 0) : Math.abs(v)));
  const positive = Float32Array.from(kept, (v) => (v > 0 ? v : 0));
  const negative = Float32Array.from(kept, (v) => (v < 0 ? v : 0));
  return barPlot([{ y: positive, colour: [0, 128, 0] }, { y: negative, colour: [255, 0, 0] }], { width: Math.max(size * 2, Math.min(1600, kept.length * 6)), height: size / 2 });
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
    if (per === 1) return `row ${row}: target ${t} (${isProbability ? 'p' : 'value'} ${s[0].toFixed(isProbability ? 2 : 3)})`;
    const probs = isProbability ? s : softmax(s);
    const pred = argmax(probs);
    return `row ${row}: target ${t} (p ${probs[t]?.toFixed(2)}) pred ${pred} (p ${probs[pred].toFixed(2)})`;
  });
}

function softmax(v: number[]): number[] {
  const m = Math.max(...v);
  const e = v.map((x) => Math.exp(x - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / z);
}

/** What columns must share besides the rows (channels are summed away). */
const extent = (l: AttributionLayout) => (l.kind === 'image' ? `image ${l.height}x${l.width}` : `sequence ${l.length}`);

/**
 * A figure like Captum's visualize_image_attr (and FeatureVis Fig. 3 for several methods): one row
 * per batch row, an "input" column where images are given, then one panel per method, each with its
 * colour scale; images are channel-summed maps, 1-D inputs per-position bar plots.
 */
const VISUALIZE_KEYS: Record<keyof VisualizeOptions, true> = { method: true, sign: true, outlierPerc: true, size: true, alpha: true, maxRows: true };

export function visualize(figure: Figure, options: VisualizeOptions = {}): Canvas {
  checkKnown('visualize', options, VISUALIZE_KEYS);
  const sign = options.sign ?? 'absolute';
  const size = options.size ?? 224;
  const outlier = options.outlierPerc ?? 2;
  if (!(outlier >= 0 && outlier < 100)) throw new ExplainError(`visualize: outlier percentage ${outlier} must be in [0, 100)`);
  if (!(size >= 8 && size <= 4096)) throw new ExplainError(`visualize: display size ${size} must be between 8 and 4096 pixels`);
  const alpha = options.alpha ?? 0.5;
  if (options.method !== undefined && !VIS_METHODS.includes(options.method)) throw new ExplainError(`visualize: method '${options.method}' is not one of ${VIS_METHODS.join(', ')}`);
  if (!VIS_SIGNS.includes(sign)) throw new ExplainError(`visualize: sign '${sign}' is not one of ${VIS_SIGNS.join(', ')}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new ExplainError(`visualize: alpha ${alpha} must be in [0, 1]`);
  if (options.maxRows !== undefined && !(Number.isInteger(options.maxRows) && options.maxRows >= 1)) throw new ExplainError(`visualize: maxRows ${options.maxRows} is not a positive integer`);
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
        const top = summed.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
        cells.push(titled(`${col.title} (max |a| ${top.toPrecision(2)})`, sequencePanel(summed, sign, size)));
        continue;
      }
      const { norm, threshold } = normalizeAttr(summed, sign, outlier);
      const panel = imagePanel(norm, layout.width, layout.height, image, method, sign, alpha, size);
      cells.push(titled(col.title, stacked([panel, signScale(sign, threshold, panel.width)])));
    }
    const caption = figure.captions?.[r] === undefined ? undefined : String(figure.captions[r]);
    body.push(caption ? [titled(caption, grid([cells], { pad: 8 }))] : cells);
  }
  return grid(body, { pad: 8 });
}
