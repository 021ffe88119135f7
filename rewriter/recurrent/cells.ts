import { Emitter } from '../emitter';
import { Activation, applyActivation } from './activations';

/** The recurrent state after a step: hidden state h (and cell state c for LSTM), each [1, N, H]; undefined is zero. */
export interface State { h?: string; c?: string }

/** One direction's weights as the spec lays them out: W [G·H, I], R [G·H, H], Wb and Rb [G·H], peepholes P [3H] (row-major values). */
export interface DirectionWeights { w: number[]; r: number[]; wb: number[]; rb: number[]; p?: number[] }

/**
 * What a cell's step reads: the emitter, the activations of the directions it steps together and
 * their constants, built once (stacked on a leading direction axis when there are several: a step's
 * tensors are then [D, N, ·] and its MatMuls batched over the directions).
 */
export interface StepContext { em: Emitter; hidden: number; acts: Activation[]; consts: Record<string, string>; linearBeforeReset: boolean; inputForget?: boolean }

/**
 * A recurrent cell (ONNX RNN, GRU, LSTM equations): how many gate blocks W stacks, the bias added to
 * X·Wᵀ for every step at once (every bias that is not inside a product), the constants its step needs,
 * and the step from the input projection xw [1, N, G·H] and the previous state.
 */
export interface Cell {
  gates: number;
  activations: number;
  inputBias(d: DirectionWeights, hidden: number, linearBeforeReset: boolean): number[];
  constants(em: Emitter, ds: DirectionWeights[], hidden: number, linearBeforeReset: boolean): Record<string, string>;
  step(s: StepContext, xw: string, prev: State): State;
}

/** Rows [rows, cols] of a row-major matrix, transposed to [cols, rows] (a MatMul's right-hand side). */
export function transposed(m: number[], rows: number, cols: number, firstRow = 0, nRows = rows): { values: Float64Array; dims: number[] } {
  const out = new Float64Array(cols * nRows);
  for (let r = 0; r < nRows; r++) for (let c = 0; c < cols; c++) out[c * nRows + r] = m[(firstRow + r) * cols + c];
  return { values: out, dims: [cols, nRows] };
}

/** The directions' matrices as one constant: [rows, cols] for one direction, [D, rows, cols] for several. */
function constMatrices(em: Emitter, ts: { values: Float64Array; dims: number[] }[]): string {
  if (ts.length === 1) return em.constFloat(ts[0].values, ts[0].dims);
  return em.constFloat(ts.flatMap((t) => Array.from(t.values)), [ts.length, ...ts[0].dims]);
}

/** The directions' vectors as one constant: [H] for one direction, [D, 1, H] for several (broadcast over the rows). */
function constVectors(em: Emitter, vs: number[][]): string {
  return em.constFloat(vs.flat(), vs.length === 1 ? [vs[0].length] : [vs.length, 1, vs[0].length]);
}

const sumBias = (d: DirectionWeights) => d.wb.map((v, k) => v + d.rb[k]);
/** x + y where y may be zero (undefined). */
const plus = (em: Emitter, x: string, y?: string) => (y ? em.add(x, y) : x);

/** RNN: Hₜ = f(Xₜ·Wᵀ + Hₜ₋₁·Rᵀ + Wb + Rb). */
export const RNN_CELL: Cell = {
  gates: 1,
  activations: 1,
  inputBias: sumBias,
  constants: (em, ds, hidden) => ({ rT: constMatrices(em, ds.map((d) => transposed(d.r, hidden, hidden))) }),
  step: ({ em, acts, consts }, xw, prev) => ({ h: applyActivation(em, acts[0], plus(em, xw, prev.h && em.matmul(prev.h, consts.rT))) }),
};

/**
 * LSTM, gates i, o, f, c: Cₜ = f ⊙ Cₜ₋₁ + i ⊙ g(c̃), Hₜ = o ⊙ h(Cₜ), peepholes on Cₜ₋₁ (i, f) and Cₜ (o);
 * `input_forget` couples the gates, f = 1 − i (onnxruntime's kernels; the f block of W, R, B and P is unused).
 */
export const LSTM_CELL: Cell = {
  gates: 4,
  activations: 3,
  inputBias: sumBias,
  constants: (em, ds, hidden) => {
    const consts: Record<string, string> = { rT: constMatrices(em, ds.map((d) => transposed(d.r, 4 * hidden, hidden))) };
    if (ds[0].p) ['pi', 'po', 'pf'].forEach((k, g) => { consts[k] = constVectors(em, ds.map((d) => d.p!.slice(g * hidden, (g + 1) * hidden))); });
    return consts;
  },
  step: ({ em, hidden, acts: [f, g, h], consts, inputForget }, xw, prev) => {
    const gates = plus(em, xw, prev.h && em.matmul(prev.h, consts.rT));
    const cell = (input: string, forget: () => string, gc: string) => {
      const kept = em.mul(input, applyActivation(em, g, gc));
      return prev.c ? em.add(em.mul(forget(), prev.c), kept) : kept;
    };
    if (!consts.pi && !inputForget) {
      // Gates i, o, f through f as one block: one activation (and one rule) for the three.
      const [iof, gc] = em.split(gates, 2, [3 * hidden, hidden]);
      const [input, output, forget] = em.split(applyActivation(em, f, iof), 2, [hidden, hidden, hidden]);
      const c = cell(input, () => forget, gc);
      return { h: em.mul(output, applyActivation(em, h, c)), c };
    }
    const [gi, go, gf, gc] = em.split(gates, 2, [hidden, hidden, hidden, hidden]);
    const peephole = (gate: string, p: string) => (consts[p] && prev.c ? em.add(gate, em.mul(prev.c, consts[p])) : gate);
    const input = applyActivation(em, f, peephole(gi, 'pi'));
    // Coupled gates read no forget block (nor its peephole).
    const c = cell(input, () => (inputForget ? em.sub(em.scalar(1), input) : applyActivation(em, f, peephole(gf, 'pf'))), gc);
    const output = consts.po ? em.add(go, em.mul(c, consts.po)) : go;
    return { h: em.mul(applyActivation(em, f, output), applyActivation(em, h, c)), c };
  },
};

/**
 * GRU, gates z, r, h: Hₜ = (1 − z) ⊙ ĥ + z ⊙ Hₜ₋₁ with ĥ = g(Xₜ·Whᵀ + (r ⊙ Hₜ₋₁)·Rhᵀ + Rbh + Wbh), or with
 * linear_before_reset ĥ = g(Xₜ·Whᵀ + r ⊙ (Hₜ₋₁·Rhᵀ + Rbh) + Wbh), where Rbh sits inside the product.
 */
export const GRU_CELL: Cell = {
  gates: 3,
  activations: 2,
  inputBias: (d, hidden, linearBeforeReset) => sumBias(d).map((v, k) => (linearBeforeReset && k >= 2 * hidden ? d.wb[k] : v)),
  constants: (em, ds, hidden, linearBeforeReset) => {
    if (!linearBeforeReset) {
      return {
        rzrT: constMatrices(em, ds.map((d) => transposed(d.r, 3 * hidden, hidden, 0, 2 * hidden))),
        rhT: constMatrices(em, ds.map((d) => transposed(d.r, 3 * hidden, hidden, 2 * hidden, hidden))),
      };
    }
    const consts: Record<string, string> = { rT: constMatrices(em, ds.map((d) => transposed(d.r, 3 * hidden, hidden))) };
    const rbh = ds.map((d) => d.rb.slice(2 * hidden));
    if (rbh.some((v) => v.some((x) => x !== 0))) consts.rbh = constVectors(em, rbh);
    return consts;
  },
  step: ({ em, hidden, acts: [f, g], consts, linearBeforeReset }, xw, prev) => {
    const [xzr, xh] = em.split(xw, 2, [2 * hidden, hidden]);
    let hzr: string | undefined;
    let hh: string | undefined;
    if (prev.h && linearBeforeReset) [hzr, hh] = em.split(em.matmul(prev.h, consts.rT), 2, [2 * hidden, hidden]);
    else if (prev.h) hzr = em.matmul(prev.h, consts.rzrT);
    // Gates z and r through f as one block: one activation (and one rule) for the two.
    const [z, reset] = em.split(applyActivation(em, f, plus(em, xzr, hzr)), 2, [hidden, hidden]);
    let candidate: string;
    if (linearBeforeReset) {
      const recurrent = hh && consts.rbh ? em.add(hh, consts.rbh) : hh ?? consts.rbh;
      candidate = applyActivation(em, g, plus(em, xh, recurrent && em.mul(reset, recurrent)));
    } else {
      candidate = applyActivation(em, g, plus(em, xh, prev.h && em.matmul(em.mul(reset, prev.h), consts.rhT)));
    }
    const fresh = em.mul(em.sub(em.scalar(1), z), candidate);
    return { h: plus(em, fresh, prev.h && em.mul(z, prev.h)) };
  },
};
