/**
 * What the dashboard page shows, computed from the history in Node so that the page script only
 * draws: per machine description, per suite, the runs in history order and one series per
 * benchmark (ratio, qemu-user ratio, the times, regressions flagged by bench/check.ts), the latest
 * run as a table, and a summary (latest geomean, best ever, biggest regression).
 */
import { describeRegression, okRatio, regressionsOverHistory, TOLERANCE, WINDOW, type Regression } from '../bench/check.js';
import { machineKey, type HistoryEntry, type Machine } from '../bench/history.js';

/** The speed goal of the design card: within 3x of native. Start-up has an absolute target instead. */
export const GOAL = 3;
const hasGoal = (group: string | undefined) => group !== 'startup';

/** How each known suite is titled and how its columns are named; an unknown suite gets its own name. */
const SUITES: Record<string, { title: string; usmjit: string; native: string; ratio: string }> = {
  bench: { title: 'Compute workloads and start-up (npm run bench)', usmjit: 'usmjit', native: 'native', ratio: 'ratio' },
  'bench:usm': {
    title: 'USM primitives (npm run bench:usm): usmbench under usmjit against linbench natively, ns per operation',
    usmjit: 'usmbench (usmjit)',
    native: 'linbench (native)',
    ratio: 'usm/native',
  },
};

/** Column titles for the known extra and translation fields; others show their key. */
const LABELS: Record<string, string> = { linbenchUsmjit: 'linbench (usmjit)', insns: 'insns translated', blocks: 'blocks', compileMs: 'compile ms' };

export interface RunInfo {
  commit: string;
  short: string;
  subject: string;
  commitDate: string;
  date: string;
  seeded: boolean;
  dirty: boolean;
}

/** One benchmark over the suite's runs: arrays are indexed like SuiteModel.runs (null where absent). */
export interface ChartModel {
  id: string;
  name: string;
  group: string;
  unit: string;
  goal: number | null;
  ratio: (number | null)[];
  qemuRatio: (number | null)[];
  native: (number | null)[];
  usmjit: (number | null)[];
  qemu: (number | null)[];
  status: (string | null)[];
  /** The ratio where the run regressed (a marked point), else null. */
  regression: (number | null)[];
  /** The median ratio a flagged run was compared with, else null. */
  baseline: (number | null)[];
  /** Why, for the hover and the chart's header. */
  regressionText: (string | null)[];
  points: number;
  regressions: number;
}

export interface TableModel {
  columns: string[];
  /** Which column holds the ratio (shown with a ×). */
  ratioColumn: number;
  rows: (string | number | null)[][];
  commit: string;
  date: string;
}

export interface SuiteModel {
  suite: string;
  title: string;
  runs: RunInfo[];
  charts: ChartModel[];
  latest: TableModel;
}

export interface Figure {
  value: number;
  commit: string;
  date: string;
  n: number;
}

export interface SuiteSummary {
  suite: string;
  latest: Figure | null;
  best: Figure | null;
}

export interface BiggestRegression {
  suite: string;
  name: string;
  commit: string;
  worseBy: number;
  text: string;
}

export interface MachineModel {
  key: string;
  machine: Machine;
  runs: number;
  lastDate: string;
  summary: { suites: SuiteSummary[]; biggestRegression: BiggestRegression | null; regressions: number };
  suites: SuiteModel[];
}

export interface Model {
  generated: string;
  entries: number;
  tolerance: string;
  machines: MachineModel[];
  /** The machine of the most recent run: the one the page opens on. */
  defaultMachine: string;
}

const runInfo = (e: HistoryEntry): RunInfo => ({
  commit: e.commit,
  short: e.commit.slice(0, 7),
  subject: e.subject,
  commitDate: e.commitDate,
  date: e.date,
  seeded: !!e.seeded,
  dirty: !!e.dirty,
});

/** The benchmarks of a run that count in its geomean: ok ratios, start-up rows left out (they measure something else). */
export function geomeanNames(e: HistoryEntry): string[] {
  return e.rows.filter((r) => hasGoal(r.group) && (okRatio(r) ?? 0) > 0).map((r) => r.name);
}

/** Geometric mean of the run's ratios over `names`; null unless the run has an ok ratio for each. */
export function geomean(e: HistoryEntry, names: string[]): number | null {
  let sum = 0;
  for (const n of names) {
    const v = okRatio(e.rows.find((r) => r.name === n));
    if (v === undefined || v <= 0) return null;
    sum += Math.log(v);
  }
  return names.length ? Math.exp(sum / names.length) : null;
}

function chartOf(suite: string, name: string, runs: HistoryEntry[], flagged: Map<HistoryEntry, Map<string, Regression>>): ChartModel {
  const first = runs.map((e) => e.rows.find((r) => r.name === name)).find(Boolean)!;
  const c: ChartModel = {
    id: `${suite}/${name}`,
    name,
    group: first.group ?? '',
    unit: first.unit,
    goal: hasGoal(first.group) ? GOAL : null,
    ratio: [],
    qemuRatio: [],
    native: [],
    usmjit: [],
    qemu: [],
    status: [],
    regression: [],
    baseline: [],
    regressionText: [],
    points: 0,
    regressions: 0,
  };
  for (const e of runs) {
    const r = e.rows.find((x) => x.name === name);
    const ratio = okRatio(r) ?? null;
    const reg = flagged.get(e)?.get(name);
    c.ratio.push(ratio);
    c.native.push(r?.native ?? null);
    c.usmjit.push(r?.usmjit ?? null);
    c.qemu.push(r?.qemu ?? null);
    c.qemuRatio.push(r?.qemu !== undefined && r.native ? r.qemu / r.native : null);
    c.status.push(r?.status ?? null);
    c.regression.push(reg && ratio !== null ? ratio : null);
    c.baseline.push(reg ? reg.baseline : null);
    c.regressionText.push(reg ? describeRegression(reg) : null);
    if (ratio !== null) c.points++;
    if (reg && ratio !== null) c.regressions++;
  }
  return c;
}

/** The latest run of a suite as a table: the measured columns, the ratio, and whatever extra columns it has. */
function tableOf(suite: string, e: HistoryEntry): TableModel {
  const names = SUITES[suite] ?? { usmjit: 'usmjit', native: 'native', ratio: 'ratio' };
  const label = (k: string) => LABELS[k] ?? k;
  const extras = [...new Set(e.rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  const figures = [...new Set(e.rows.flatMap((r) => Object.keys(r.translation ?? {})))];
  const hasQemu = e.rows.some((r) => r.qemu !== undefined);
  const columns = ['benchmark', 'unit', names.usmjit, names.native, ...(hasQemu ? ['qemu-user'] : []), names.ratio, ...extras.map(label), ...figures.map(label), 'status'];
  const rows = e.rows.map((r) => [
    r.name,
    r.unit,
    r.usmjit ?? null,
    r.native ?? null,
    ...(hasQemu ? [r.qemu ?? null] : []),
    okRatio(r) ?? null,
    ...extras.map((k) => r.extra?.[k] ?? null),
    ...figures.map((k) => r.translation?.[k] ?? null),
    r.status + (r.note ? ` (${r.note})` : ''),
  ]);
  return { columns, ratioColumn: columns.indexOf(names.ratio), rows, commit: e.commit.slice(0, 7), date: e.date };
}

function suiteOf(suite: string, runs: HistoryEntry[], flagged: Map<HistoryEntry, Map<string, Regression>>): SuiteModel {
  // The latest run's order (the runner's), then benchmarks that only older runs have.
  const names: string[] = [];
  for (const e of [...runs].reverse()) for (const r of e.rows) if (!names.includes(r.name)) names.push(r.name);
  return {
    suite,
    title: SUITES[suite]?.title ?? suite,
    runs: runs.map(runInfo),
    charts: names.map((n) => chartOf(suite, n, runs, flagged)),
    latest: tableOf(suite, runs[runs.length - 1]),
  };
}

function summaryOf(suites: SuiteModel[], byS: Map<string, HistoryEntry[]>, flagged: Map<HistoryEntry, Map<string, Regression>>): MachineModel['summary'] {
  const out: MachineModel['summary'] = { suites: [], biggestRegression: null, regressions: 0 };
  for (const s of suites) {
    const runs = byS.get(s.suite)!;
    // Geomeans compare only over the same benchmarks: the latest run's, in every run that has them all.
    const names = geomeanNames(runs[runs.length - 1]);
    const fig = (e: HistoryEntry): Figure | null => {
      const g = geomean(e, names);
      return g === null ? null : { value: g, n: names.length, commit: e.commit.slice(0, 7), date: e.date };
    };
    const figs = runs.map(fig).filter((f): f is Figure => f !== null);
    const best = figs.reduce<Figure | null>((b, f) => (!b || f.value < b.value ? f : b), null);
    out.suites.push({ suite: s.suite, latest: fig(runs[runs.length - 1]), best });
    for (const e of runs) {
      for (const r of flagged.get(e)?.values() ?? []) {
        out.regressions++;
        // A benchmark that stopped running counts, but a measured slow-down names the biggest.
        const worseBy = r.worseBy ?? -1;
        if (!out.biggestRegression || worseBy > out.biggestRegression.worseBy) {
          out.biggestRegression = { suite: s.suite, name: r.name, commit: e.commit.slice(0, 7), worseBy, text: describeRegression(r) };
        }
      }
    }
  }
  return out;
}

/** The page model of a history (in history order, as readHistory returns it). */
export function buildModel(history: HistoryEntry[], generated = new Date()): Model {
  const flagged = regressionsOverHistory(history);
  const byMachine = new Map<string, HistoryEntry[]>();
  for (const e of history) {
    const k = machineKey(e.machine);
    byMachine.set(k, [...(byMachine.get(k) ?? []), e]);
  }
  const machines: MachineModel[] = [];
  for (const [key, entries] of byMachine) {
    const byS = new Map<string, HistoryEntry[]>();
    for (const e of entries) byS.set(e.suite, [...(byS.get(e.suite) ?? []), e]);
    // Known suites first, in their order; others after, by name.
    const order = [...byS.keys()].sort((a, b) => (SUITES[a] ? Object.keys(SUITES).indexOf(a) : 99) - (SUITES[b] ? Object.keys(SUITES).indexOf(b) : 99) || a.localeCompare(b));
    const suites = order.map((s) => suiteOf(s, byS.get(s)!, flagged));
    const lastDate = entries.map((e) => e.date).sort().pop()!;
    machines.push({ key, machine: entries[0].machine, runs: entries.length, lastDate, summary: summaryOf(suites, byS, flagged), suites });
  }
  machines.sort((a, b) => b.lastDate.localeCompare(a.lastDate));
  return {
    generated: generated.toISOString(),
    entries: history.length,
    tolerance: `a ratio more than ${Math.round(TOLERANCE * 100)}% above the median of the last ${WINDOW} runs of the same suite on the same machine description`,
    machines,
    defaultMachine: machines[0]?.key ?? '',
  };
}
