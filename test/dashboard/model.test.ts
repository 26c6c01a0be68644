/**
 * The page model (dashboard/model.ts) of the fixture history: machines apart, charts per
 * benchmark in the runner's order, the regression flags of bench/check.ts, and a summary whose
 * geomeans compare like with like.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readHistory } from '../../bench/history.js';
import { buildModel, geomean } from '../../dashboard/model.js';

const history = readHistory(join(import.meta.dirname, 'fixture-history.jsonl'));
const model = buildModel(history, new Date('2026-11-10T00:00:00Z'));

describe('dashboard model', () => {
  it('keeps machine descriptions apart and opens on the most recent one', () => {
    expect(model.machines.map((m) => [m.machine.cpu, m.runs])).toEqual([
      ['Fixture CPU 3000', 11],
      ['Other CPU', 2],
    ]);
    expect(model.defaultMachine).toBe(model.machines[0].key);
  });

  it('has one chart per benchmark, in the latest run order, over the suite runs in commit order', () => {
    const [bench, usm] = model.machines[0].suites;
    expect(bench.suite).toBe('bench');
    expect(bench.runs.map((r) => r.short)).toEqual(['0101010', '0202020', '0303030', '0404040', '0505050', '0606060', '0707070', '0808080']);
    expect(bench.runs.map((r) => r.seeded)).toEqual([true, true, true, true, false, false, false, false]);
    expect(bench.charts.map((c) => `${c.name}:${c.points}`)).toEqual(['crc32:8', 'sha256:8', 'nbody:6', 'qsort:7', 'static hello world:8']);
    expect(bench.charts.find((c) => c.name === 'nbody')!.ratio.slice(0, 3)).toEqual([null, null, 9]);
    expect(usm.charts.map((c) => `${c.name}:${c.points}:${c.goal}`)).toEqual(['syscall:3:3', 'trap:3:3', 'watchpoint:0:3']);
    expect(bench.charts.find((c) => c.group === 'startup')!.goal).toBeNull();
    expect(usm.latest.columns).toEqual(['benchmark', 'unit', 'usmbench (usmjit)', 'linbench (native)', 'usm/native', 'linbench (usmjit)', 'status']);
  });

  it('flags the planted regression and the benchmark that stopped running', () => {
    const bench = model.machines[0].suites[0];
    const sha = bench.charts.find((c) => c.name === 'sha256')!;
    expect(sha.regression.map((v, i) => (v === null ? null : i))).toEqual([null, null, null, null, null, null, 6, null]);
    expect(sha.baseline[6]).toBe(7);
    const qsort = bench.charts.find((c) => c.name === 'qsort')!;
    expect(qsort.regressions).toBe(0);
    expect(qsort.regressionText[4]).toMatch(/^qsort: now FAIL/);
    expect(model.machines[0].summary.regressions).toBe(2);
    expect(model.machines[0].summary.biggestRegression).toMatchObject({ name: 'sha256', commit: '0707070' });
    expect(model.machines[0].summary.biggestRegression!.worseBy).toBeCloseTo(0.3, 10);
  });

  it('compares geomeans over the same benchmarks only (the latest run s, start-up left out)', () => {
    const [s] = model.machines[0].summary.suites;
    const names = ['crc32', 'sha256', 'nbody', 'qsort'];
    const latest = history.filter((e) => e.suite === 'bench' && e.machine.cpu === 'Fixture CPU 3000').pop()!;
    expect(s.latest!.value).toBeCloseTo(geomean(latest, names)!, 12);
    expect(s.latest!.n).toBe(4);
    // Runs without nbody (1, 2) or with qsort failing (5) do not compete for best ever.
    expect(s.best!.commit).toBe('0808080');
  });
});
