/**
 * The differential tester's case streams as the tests run them (diff.test.ts, diff-fp.test.ts),
 * shared with `npm run isa-coverage` (coverage.ts), which runs the same streams and counts the
 * forms they executed and compared.
 *
 *  - main: every form (faulting ones too, through the harness's signal handlers), fast flavour;
 *  - fp-fast and fp-precise: the SSE floating-point forms, the same cases in each flavour (fast:
 *    MXCSR's default control, usmjit pinned to its inline translations; precise: a random
 *    rounding mode, DAZ, FTZ, usmjit pinned to the softfloat ones), MXCSR compared bit for bit.
 *
 * Environment overrides: DIFF_SEED, DIFF_CASES (main), DIFF_FP_CASES (each fp stream),
 * DIFF_EXCLUDE (comma-separated form ids/families left out of main), DIFF_SIGNALS=0.
 */
import type { DiffOptions, Flavour } from './run.js';

export const SEED = Number(process.env.DIFF_SEED ?? 20240601);

/** The SSE floating-point families (and the MXCSR moves). */
export const FLOAT_FAMILIES = ['sse-float', 'sse-cmp', 'sse-cvt', 'sse3', 'sse41', 'ldmxcsr', 'stmxcsr'];

export interface Stream {
  name: string;
  flavour: Flavour;
  options: DiffOptions;
}

export function streams(): Stream[] {
  const fpCases = Number(process.env.DIFF_FP_CASES ?? 8000);
  const common = { seed: SEED, emu: 'cli' as const, jobs: 2, maxPrint: 25 };
  return [
    {
      name: 'main', flavour: 'fast',
      options: {
        ...common, cases: Number(process.env.DIFF_CASES ?? 20000), flavour: 'fast',
        exclude: process.env.DIFF_EXCLUDE ? process.env.DIFF_EXCLUDE.split(',').filter(Boolean) : undefined,
        signals: process.env.DIFF_SIGNALS !== '0',
      },
    },
    { name: 'fp-fast', flavour: 'fast', options: { ...common, cases: fpCases, only: FLOAT_FAMILIES, flavour: 'fast' } },
    { name: 'fp-precise', flavour: 'precise', options: { ...common, cases: fpCases, only: FLOAT_FAMILIES, flavour: 'precise' } },
  ];
}

export const stream = (name: string): Stream => {
  const s = streams().find((x) => x.name === name);
  if (!s) throw new Error(`no stream ${name}`);
  return s;
};
