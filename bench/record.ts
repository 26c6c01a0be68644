/**
 * `--record` and `--check` for the benchmark runners (bench/run.ts, bench/usm/run.ts). A runner
 * takes these flags out of its command line first, runs its benchmarks, then hands its rows to
 * finishRun, which checks the run against the history and/or appends it.
 *
 *   --record         append this run to the history (bench/history/, one JSON file per run)
 *   --check          compare with the median of the last 5 recorded runs on this machine
 *                    description; exit status 1, naming the benchmark, when one is >10% worse in ratio
 *   --history DIR    another history directory (tests, experiments)
 */
import { join } from 'node:path';
import { ROOT } from '../test/helpers/guest.js';
import { checkRun, describeRegression } from './check.js';
import { appendEntry, readHistory, SCHEMA, type HistoryEntry, type HistoryRow } from './history.js';
import { describeCommit, describeMachine } from './provenance.js';

export const DEFAULT_HISTORY = join(ROOT, 'bench', 'history');

export interface HistoryFlags {
  record: boolean;
  check: boolean;
  historyDir: string;
}

/** The usage text the runners append to theirs. */
export const HISTORY_USAGE = '[--record] [--check] [--history DIR]';

/** Splits the history flags from the runner's own arguments. */
export function takeHistoryFlags(argv: string[]): { flags: HistoryFlags; rest: string[] } {
  const flags: HistoryFlags = { record: false, check: false, historyDir: DEFAULT_HISTORY };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--record') flags.record = true;
    else if (argv[i] === '--check') flags.check = true;
    else if (argv[i] === '--history' && i + 1 < argv.length) flags.historyDir = argv[++i];
    else rest.push(argv[i]);
  }
  return { flags, rest };
}

/** A history entry for a run made now from this checkout. */
export function newEntry(suite: string, rows: HistoryRow[], options: Record<string, unknown>, seed?: { commit: string }): HistoryEntry {
  const c = describeCommit(ROOT, seed?.commit);
  return {
    schema: SCHEMA,
    suite,
    date: new Date().toISOString(),
    commit: c.commit,
    commitDate: c.commitDate,
    subject: c.subject,
    ...(c.dirty && !seed ? { dirty: true } : {}),
    ...(seed ? { seeded: true } : {}),
    machine: describeMachine(),
    options,
    rows,
  };
}

/**
 * Checks and/or records a finished run; prints what it did to `out`. Returns 1 when --check found
 * a regression, else 0. The check reads the history before the run is appended, so a run is
 * never its own baseline.
 */
export function finishRun(run: HistoryEntry, flags: HistoryFlags, out: (line: string) => void = (l) => void process.stdout.write(l + '\n')): number {
  let status = 0;
  if (flags.check) {
    const { regressions, baselineRuns } = checkRun(readHistory(flags.historyDir), run);
    out('');
    if (!baselineRuns) out(`Regression check: no earlier ${run.suite} run recorded on this machine description; nothing to compare.`);
    else if (!regressions.length) out(`Regression check: no benchmark is more than 10% worse in ratio than the median of the last ${baselineRuns} runs.`);
    else {
      status = 1;
      out(`Regression check: ${regressions.length} benchmark(s) regressed:`);
      for (const r of regressions) out(`- REGRESSION ${describeRegression(r)}`);
    }
  }
  if (flags.record) out(`Recorded in ${appendEntry(flags.historyDir, run)}`);
  return status;
}
