/**
 * Differential test: a fixed-seed batch of generated instruction snippets runs natively and under
 * usmjit (dist/src/cli.js, so `npm run build` first — `npm test` does) and must agree exactly
 * (flags the SDM leaves undefined masked). Faulting forms are included: the harness's signal
 * handlers report `SIG n`, which must agree too. Environment overrides: DIFF_CASES, DIFF_SEED,
 * DIFF_EXCLUDE (comma-separated form ids/families to leave out), DIFF_EMU (auto|cli|mini),
 * DIFF_SIGNALS=0 (leave faulting forms out). The random-MXCSR floating-point batch is diff-fp.test.ts
 * (a separate file: one Capstone decoder per process).
 */
import { describe, expect, it } from 'vitest';
import { runDiff } from './run.js';
import type { EmuKind } from './lib.js';

const CASES = Number(process.env.DIFF_CASES ?? 20000);
const SEED = Number(process.env.DIFF_SEED ?? 20240601);

describe('differential instruction test (native CPU vs usmjit)', () => {
  it(`${CASES} generated cases, seed ${SEED}`, async () => {
    const lines: string[] = [];
    const r = await runDiff({
      cases: CASES,
      seed: SEED,
      exclude: process.env.DIFF_EXCLUDE ? process.env.DIFF_EXCLUDE.split(',').filter(Boolean) : undefined,
      emu: (process.env.DIFF_EMU as EmuKind | 'auto' | undefined) ?? 'auto',
      signals: process.env.DIFF_SIGNALS !== '0',
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
