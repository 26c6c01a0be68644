/**
 * Differential test: the `main` stream (streams.ts: a fixed-seed batch of every generated form,
 * faulting ones included through the harness's signal handlers) runs natively and under usmjit
 * (dist/src/cli.js, so `npm run build` first — `npm test` does) and must agree exactly (flags the
 * SDM leaves undefined masked; MXCSR bit for bit, usmjit pinned to its fast SSE flavour). The
 * floating-point streams are diff-fp.test.ts (a separate file: one Capstone decoder per process).
 */
import { describe, expect, it } from 'vitest';
import { runDiff } from './run.js';
import { stream } from './streams.js';

describe('differential instruction test (native CPU vs usmjit)', () => {
  const s = stream('main');
  it(`${s.options.cases} generated cases, seed ${s.options.seed}, ${s.flavour} flavour`, async () => {
    const lines: string[] = [];
    const r = await runDiff({ ...s.options, log: (l) => lines.push(l) });
    const report = [...lines, ...r.failures, `${r.passed} passed, ${r.failed} failed (${r.seconds.toFixed(1)} s, driver ${r.emu})`].join('\n\n');
    if (r.failed) console.log(report);
    expect(r.emu, 'the real CLI must have run the harness').toBe('cli');
    expect(r.encodingErrors, 'encoding self-check errors (see the log)').toBe(0);
    expect(r.failed, 'mismatches between the native CPU and usmjit (see the log)').toBe(0);
    expect(r.passed).toBe(s.options.cases);
  }, 900_000);
});
