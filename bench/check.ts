/**
 * The regression rule, shared by `--check` and the dashboard: a benchmark regressed in a run when
 * its ratio (usmjit / native) is more than 10% above the median ratio of its last 5 recorded runs of
 * the same suite on the same machine description. Ratios, not times: the machines are shared and
 * noisy, and the native run absorbs most of the machine's mood.
 *
 * A benchmark that has an ok ratio in the most recent earlier run and now fails (FAIL, timeout...)
 * is a regression too.
 */
import { machineKey, type HistoryEntry, type HistoryRow } from './history.js';

/** How many earlier runs the baseline is the median of. */
export const WINDOW = 5;
/** How much worse than the baseline a ratio may be. */
export const TOLERANCE = 0.1;

export interface Regression {
  name: string;
  /** Median ratio of the earlier runs. */
  baseline: number;
  /** How many earlier runs that median is over (at most WINDOW). */
  runs: number;
  /** The new ratio, when there is one. */
  ratio?: number;
  /** ratio / baseline - 1 (0.25 = 25% worse). */
  worseBy?: number;
  /** The new status, when the benchmark no longer runs. */
  status?: string;
}

export const okRatio = (r: HistoryRow | undefined): number | undefined =>
  r && r.status === 'ok' && typeof r.ratio === 'number' && Number.isFinite(r.ratio) ? r.ratio : undefined;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The runs a run is compared with: same suite, same machine description. */
export function comparable(history: HistoryEntry[], run: HistoryEntry): HistoryEntry[] {
  const key = machineKey(run.machine);
  return history.filter((e) => e !== run && e.suite === run.suite && machineKey(e.machine) === key);
}

/**
 * The regressions of `run` against `earlier` (comparable runs before it, in history order). Each
 * benchmark's baseline is the median of its ok ratios in the last WINDOW earlier runs that have one.
 */
export function findRegressions(earlier: HistoryEntry[], run: HistoryEntry): Regression[] {
  const out: Regression[] = [];
  for (const row of run.rows) {
    const past: number[] = [];
    let latest: HistoryRow | undefined;
    for (let i = earlier.length - 1; i >= 0 && past.length < WINDOW; i--) {
      const r = earlier[i].rows.find((x) => x.name === row.name);
      latest ??= r;
      const v = okRatio(r);
      if (v !== undefined) past.push(v);
    }
    if (!past.length) continue;
    const baseline = median(past);
    const ratio = okRatio(row);
    if (ratio !== undefined) {
      if (ratio > baseline * (1 + TOLERANCE)) out.push({ name: row.name, baseline, runs: past.length, ratio, worseBy: ratio / baseline - 1 });
    } else if (okRatio(latest) !== undefined && row.status !== 'ok') {
      out.push({ name: row.name, baseline, runs: past.length, status: row.status });
    }
  }
  return out;
}

/** Checks a new run against the recorded history (which does not contain it yet). */
export function checkRun(history: HistoryEntry[], run: HistoryEntry): { regressions: Regression[]; baselineRuns: number } {
  const earlier = comparable(history, run);
  return { regressions: findRegressions(earlier, run), baselineRuns: Math.min(earlier.length, WINDOW) };
}

/**
 * The regressions of every recorded run against the runs before it (same suite and machine), for
 * the dashboard: keyed by the entry, then by benchmark name.
 */
export function regressionsOverHistory(history: HistoryEntry[]): Map<HistoryEntry, Map<string, Regression>> {
  const out = new Map<HistoryEntry, Map<string, Regression>>();
  const seen = new Map<string, HistoryEntry[]>();
  for (const e of history) {
    const key = `${e.suite}\n${machineKey(e.machine)}`;
    const earlier = seen.get(key) ?? [];
    out.set(e, new Map(findRegressions(earlier, e).map((r) => [r.name, r])));
    earlier.push(e);
    seen.set(key, earlier);
  }
  return out;
}

const x = (v: number): string => `${v.toFixed(2)}x`;

/** One line per regression, naming the benchmark. */
export function describeRegression(r: Regression): string {
  if (r.ratio === undefined) return `${r.name}: now ${r.status} (median ratio of the last ${r.runs} runs: ${x(r.baseline)})`;
  return `${r.name}: ratio ${x(r.ratio)} is ${(100 * (r.worseBy ?? 0)).toFixed(0)}% worse than ${x(r.baseline)}, the median of the last ${r.runs} runs`;
}
