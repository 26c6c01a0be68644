/**
 * Differential test of SSE floating point under a random MXCSR: a fixed-seed batch of the float
 * forms (arithmetic, compares, conversions, SSE3/SSE4.1 float ops, ldmxcsr/stmxcsr, alone and in
 * sequences) starting from a random rounding mode, DAZ, FTZ and pre-set exception flags, with
 * MXCSR compared bit for bit. The harness loads every case's MXCSR, so usmjit runs its precise SSE
 * floating point (src/jit/isa/sse-precise.ts). DIFF_FP_CASES, DIFF_SEED, DIFF_EMU as in diff.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { runDiff } from './run.js';
import type { EmuKind } from './lib.js';

const SEED = Number(process.env.DIFF_SEED ?? 20240601);

describe('differential floating-point test with a random MXCSR (native CPU vs usmjit)', () => {
  const FP_CASES = Number(process.env.DIFF_FP_CASES ?? 8000);
  it(`${FP_CASES} floating-point cases with a random MXCSR, seed ${SEED}`, async () => {
    const lines: string[] = [];
    const r = await runDiff({
      cases: FP_CASES,
      seed: SEED,
      only: ['sse-float', 'sse-cmp', 'sse-cvt', 'sse3', 'sse41', 'ldmxcsr', 'stmxcsr'],
      mxcsrRandom: true,
      emu: (process.env.DIFF_EMU as EmuKind | 'auto' | undefined) ?? 'auto',
      jobs: 2,
      maxPrint: 25,
      log: (l) => lines.push(l),
    });
    const report = [...lines, ...r.failures, `${r.passed} passed, ${r.failed} failed (${r.seconds.toFixed(1)} s, driver ${r.emu})`].join('\n\n');
    if (r.failed) console.log(report);
    expect(r.encodingErrors, 'encoding self-check errors (see the log)').toBe(0);
    expect(r.failed, 'mismatches between the native CPU and usmjit (see the log)').toBe(0);
  }, 600_000);
});
