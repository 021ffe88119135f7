import { Emitter } from '../emitter';
import { Activation, applyActivation } from './activations';

/** The recurrent state after a step: hidden state h (and cell state c for LSTM), each [1, N, H]; undefined is zero. */
export interface State { h?: string; c?: string }

/** One direction's weights as the spec lays them out: W [G·H, I], R [G·H, H], Wb and Rb [G·H], peepholes P [3H] (row-major values). */
export interface DirectionWeights { w: number[]; r: number[]; wb: number[]; rb: number[]; p?: number[] }

/** What a cell's step reads: the emitter, the direction's activations and constants built once per direction. */
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
  constants(em: Emitter, d: DirectionWeights, hidden: number, linearBeforeReset: boolean): Record<string, string>;
  step(s: StepContext, xw: string, prev: State): State;
}

/** Rows [rows, cols] of a row-major matrix, transposed to [cols, rows] (a MatMul's right-hand side). */
export function transposed(m: number[], rows: number, cols: number, firstRow = 0, nRows = rows): { values: Float64Array; dims: number[] } {
  const out = new Float64Array(cols * nRows);
  for (let r = 0; r < nRows; r++) for (let c = 0; c < cols; c++) out[c * nRows + r] = m[(firstRow + r) * cols + c];
  return { values: out, dims: [cols, nRows] };
}

const constMatrix = (em: Emitter, t: { values: Float64Array; dims: number[] }) => em.constFloat(t.values, t.dims);
const sumBias = (d: DirectionWeights) => d.wb.map((v, k) => v + d.rb[k]);
/** x + y where y may be zero (undefined). */
const plus = (em: Emitter, x: string, y?: string) => (y ? em.add(x, y) : x);

/** RNN: Hₜ = f(Xₜ·Wᵀ + Hₜ₋₁·Rᵀ + Wb + Rb). */
export const RNN_CELL: Cell = {
  gates: 1,
  activations: 1,
  inputBias: sumBias,
  constants: (em, d, hidden) => ({ rT: constMatrix(em, transposed(d.r, hidden, hidden)) }),
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
  constants: (em, d, hidden) => {
    const consts: Record<string, string> = { rT: constMatrix(em, transposed(d.r, 4 * hidden, hidden)) };
    if (d.p) ['pi', 'po', 'pf'].forEach((k, g) => { consts[k] = em.constFloat(d.p!.slice(g * hidden, (g + 1) * hidden), [hidden]); });
    return consts;
  },
  step: ({ em, hidden, acts: [f, g, h], consts, inputForget }, xw, prev) => {
    const [gi, go, gf, gc] = em.split(plus(em, xw, prev.h && em.matmul(prev.h, consts.rT)), 2, [hidden, hidden, hidden, hidden]);
    const peephole = (gate: string, p: string) => (consts[p] && prev.c ? em.add(gate, em.mul(prev.c, consts[p])) : gate);
    const input = applyActivation(em, f, peephole(gi, 'pi'));
    const kept = em.mul(input, applyActivation(em, g, gc));
    // Coupled gates read no forget block (nor its peephole).
    const forget = () => (inputForget ? em.sub(em.scalar(1), input) : applyActivation(em, f, peephole(gf, 'pf')));
    const c = prev.c ? em.add(em.mul(forget(), prev.c), kept) : kept;
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
  constants: (em, d, hidden, linearBeforeReset) => {
    if (!linearBeforeReset) return { rzrT: constMatrix(em, transposed(d.r, 3 * hidden, hidden, 0, 2 * hidden)), rhT: constMatrix(em, transposed(d.r, 3 * hidden, hidden, 2 * hidden, hidden)) };
    const consts: Record<string, string> = { rT: constMatrix(em, transposed(d.r, 3 * hidden, hidden)) };
    const rbh = d.rb.slice(2 * hidden);
    if (rbh.some((v) => v !== 0)) consts.rbh = em.constFloat(rbh, [hidden]);
    return consts;
  },
  step: ({ em, hidden, acts: [f, g], consts, linearBeforeReset }, xw, prev) => {
    const [xz, xr, xh] = em.split(xw, 2, [hidden, hidden, hidden]);
    let hz: string | undefined;
    let hr: string | undefined;
    const reset = () => applyActivation(em, f, plus(em, xr, hr));
    let candidate: string;
    if (linearBeforeReset) {
      let hh: string | undefined;
      if (prev.h) [hz, hr, hh] = em.split(em.matmul(prev.h, consts.rT), 2, [hidden, hidden, hidden]);
      const recurrent = hh && consts.rbh ? em.add(hh, consts.rbh) : hh ?? consts.rbh;
      candidate = applyActivation(em, g, plus(em, xh, recurrent && em.mul(reset(), recurrent)));
    } else {
      if (prev.h) [hz, hr] = em.split(em.matmul(prev.h, consts.rzrT), 2, [hidden, hidden]);
      candidate = applyActivation(em, g, plus(em, xh, prev.h && em.matmul(em.mul(reset(), prev.h), consts.rhT)));
    }
    const z = applyActivation(em, f, plus(em, xz, hz));
    const fresh = em.mul(em.sub(em.scalar(1), z), candidate);
    return { h: plus(em, fresh, prev.h && em.mul(z, prev.h)) };
  },
};
