/**
 * `--check` and `--record` (bench/check.ts, bench/record.ts) against the fixture history: a planted
 * regression exits 1 naming the benchmark, a clean run exits 0, runs on another machine
 * description are not compared, and a recorded run reads back. No benchmark runs here.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRun, findRegressions, median, WINDOW } from '../../bench/check.js';
import { readHistory, type HistoryEntry, type HistoryRow } from '../../bench/history.js';
import { finishRun, takeHistoryFlags, type HistoryFlags } from '../../bench/record.js';

const FIXTURE = join(import.meta.dirname, 'fixture-history.jsonl');
const history = readHistory(FIXTURE);
const latestBench = history.filter((e) => e.suite === 'bench' && e.machine.cpu === 'Fixture CPU 3000').pop()!;

/** A new run on the fixture's machine: the latest run's rows with some ratios replaced. */
function run(ratios: Record<string, number | 'FAIL'> = {}, machine = latestBench.machine): HistoryEntry {
  const rows: HistoryRow[] = latestBench.rows.map((r) => {
    const v = ratios[r.name];
    if (v === undefined) return { ...r };
    if (v === 'FAIL') return { name: r.name, group: r.group, unit: r.unit, native: r.native, status: 'FAIL', note: 'timeout' };
    return { ...r, usmjit: r.native! * v, ratio: v };
  });
  return { ...latestBench, date: '2026-11-09T12:00:00.000Z', commit: 'f'.repeat(40), commitDate: '2026-11-09T10:00:00.000Z', seeded: undefined, machine, rows };
}

function check(e: HistoryEntry, historyDir = FIXTURE): { status: number; out: string } {
  const lines: string[] = [];
  const status = finishRun(e, { record: false, check: true, historyDir }, (l) => lines.push(l));
  return { status, out: lines.join('\n') };
}

describe('--check', () => {
  it('exits 1 and names the benchmark more than 10% worse than the median of the last 5 runs', () => {
    // sha256's last 5 ratios: 7.0 6.8 7.0 9.1 7.0 -> median 7.0; 8.5 is 21% worse.
    const { status, out } = check(run({ sha256: 8.5 }));
    expect(status).toBe(1);
    expect(out).toMatch(/REGRESSION sha256: ratio 8\.50x is 21% worse than 7\.00x, the median of the last 5 runs/);
    expect(out).not.toMatch(/crc32|nbody|qsort|hello/);
  });

  it('exits 0 on a run as fast as the recorded ones', () => {
    const { status, out } = check(run());
    expect(status).toBe(0);
    expect(out).toMatch(/no benchmark is more than 10% worse in ratio than the median of the last 5 runs/);
  });

  it('tolerates up to 10% and no more', () => {
    expect(check(run({ sha256: 7.69 })).status).toBe(0);
    expect(check(run({ sha256: 7.71 })).status).toBe(1);
  });

  it('flags a benchmark that stops running', () => {
    const { status, out } = check(run({ nbody: 'FAIL' }));
    expect(status).toBe(1);
    expect(out).toMatch(/REGRESSION nbody: now FAIL/);
  });

  it('compares only with runs on the same machine description', () => {
    const { status, out } = check(run({ sha256: 20 }, { ...latestBench.machine, cores: 64 }));
    expect(status).toBe(0);
    expect(out).toMatch(/no earlier bench run recorded on this machine description/);
    // Same CPU, another Node: not the same description either.
    expect(check(run({ sha256: 20 }, { ...latestBench.machine, node: 'v22.0.0' })).status).toBe(0);
  });

  it('takes the median of the last 5 runs only, and of the suite checked', () => {
    const old = (ratio: number, i: number): HistoryEntry => ({ ...run({ sha256: ratio }), commitDate: `2026-10-0${i + 1}T00:00:00.000Z` });
    const earlier = [1, 1, 1, 10, 10, 10, 10, 10].map(old);
    expect(WINDOW).toBe(5);
    expect(findRegressions(earlier, run({ sha256: 10.5 }))).toEqual([]);
    expect(findRegressions(earlier.slice(0, 4), run({ sha256: 10.5 })).map((r) => r.name)).toEqual(['sha256']);
    const usm = { ...run({ sha256: 50 }), suite: 'bench:usm' };
    expect(checkRun(history, usm).regressions.map((r) => r.name)).toEqual([]);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});

describe('--record', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('appends one file per run that reads back, and a run is not its own baseline', () => {
    dir = mkdtempSync(join(tmpdir(), 'usmjit-history-'));
    const flags: HistoryFlags = { record: true, check: true, historyDir: dir };
    const lines: string[] = [];
    expect(finishRun(run(), flags, (l) => lines.push(l))).toBe(0);
    expect(lines.join('\n')).toMatch(/no earlier bench run recorded/);
    expect(finishRun({ ...run({ sha256: 9 }), date: '2026-11-09T13:00:00.000Z' }, flags, (l) => lines.push(l))).toBe(1);
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(2);
    const back = readHistory(dir);
    expect(back).toHaveLength(2);
    expect(back[1].rows.find((r) => r.name === 'sha256')?.ratio).toBe(9);
  });

  it('takes its flags out of the runner arguments', () => {
    expect(takeHistoryFlags(['--runs', '3', '--record', '--check', '--history', '/x', '--only', 'a'])).toEqual({
      flags: { record: true, check: true, historyDir: '/x' },
      rest: ['--runs', '3', '--only', 'a'],
    });
  });
});
