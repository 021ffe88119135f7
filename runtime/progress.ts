/** Reports progress of a long loop (batches, sweeps, optimisation steps); `note` e.g. the objective. */
export type Progress = (done: number, total: number, note?: string) => void;
