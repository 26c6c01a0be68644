/**
 * `npm run bench`: compiles each compute workload in bench/workloads with `gcc -O2 -static`, runs it
 * natively and under usmjit, checks that the outputs agree, and prints a markdown table of wall
 * times and ratios with usmjit's translation statistics (from USMJIT_STATS=1), then the median
 * ratio. Also measures start-up: a static hello world and `busybox true` (median of 5 runs each).
 *
 *   node dist/bench/run.js [--only name,name] [--runs N] [--timeout SECONDS] [--startup-runs N] [--record] [--check]
 *
 * --record appends the run to the history (bench/history), --check compares it with the last
 * recorded runs and exits 1 naming a benchmark whose ratio is more than 10% worse (bench/record.ts).
 * --runs N times each workload N times on each side and reports the medians (default 1).
 * A workload that fails or times out under usmjit is reported as FAIL; one whose output differs
 * from the native run as MISMATCH. Neither stops the run.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUSYBOX,
  CLI_PATH,
  compileC,
  exitStatus,
  GUEST_ENV,
  ROOT,
  runNative,
  runUsmjit,
  type RunResult,
} from '../test/helpers/guest.js';
import { clean, type HistoryRow } from './history.js';
import { finishRun, HISTORY_USAGE, newEntry, takeHistoryFlags } from './record.js';

const WORKLOADS_DIR = join(ROOT, 'bench', 'workloads');
const STARTUP_PROGRAM = 'hello';

interface Options {
  only?: Set<string>;
  runs: number;
  timeoutMs: number;
  startupRuns: number;
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`bench: ${msg}\n`);
  process.stderr.write(`usage: node dist/bench/run.js [--only name,name] [--runs N] [--timeout SECONDS] [--startup-runs N] ${HISTORY_USAGE}\n`);
  process.exit(msg ? 2 : 0);
}

function parseOptions(argv: string[]): Options {
  const o: Options = { runs: 1, timeoutMs: 600_000, startupRuns: 5 };
  const positive = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) usage(`${flag} needs a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') o.only = new Set((argv[++i] ?? '').split(',').filter(Boolean));
    else if (a === '--runs') o.runs = Math.floor(positive(a, argv[++i]));
    else if (a === '--timeout') o.timeoutMs = positive(a, argv[++i]) * 1000;
    else if (a === '--startup-runs') o.startupRuns = Math.floor(positive(a, argv[++i]));
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument '${a}'`);
  }
  return o;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Stats {
  insns: number;
  blocks: number;
  compileMs: number;
}

/** Parses `usmjit-stats: insns=N blocks=N compile_ms=X` (other fields may appear in between). */
function parseStats(stderr: string): Stats | undefined {
  const line = stderr.split('\n').find((l) => l.startsWith('usmjit-stats:'));
  if (!line) return undefined;
  const field = (k: string) => {
    const m = new RegExp(`\\b${k}=([0-9.]+)`).exec(line);
    return m ? Number(m[1]) : Number.NaN;
  };
  return { insns: field('insns'), blocks: field('blocks'), compileMs: field('compile_ms') };
}

/** Why a run failed, in a few words. */
function failure(r: RunResult): string {
  if (r.timedOut) return 'timeout';
  if (r.error) return r.error.split('\n')[0];
  const why = r.stderr.split('\n').find((l) => l.startsWith('usmjit:'));
  const st = r.signal ? r.signal : `exit ${exitStatus(r)}`;
  return why ? `${st}: ${why.slice(0, 100)}` : st;
}

interface Row {
  name: string;
  nativeS?: number;
  usmjitS?: number;
  ratio?: number;
  stats?: Stats;
  verdict: 'ok' | 'FAIL' | 'MISMATCH' | 'NATIVE FAIL' | 'BUILD FAIL';
  note?: string;
}

function progress(msg: string): void {
  process.stderr.write(msg + '\n');
}

function benchWorkload(name: string, o: Options): Row {
  let bin: string;
  try {
    bin = compileC(join(WORKLOADS_DIR, `${name}.c`), { cacheSubdir: 'bench' });
  } catch (e) {
    return { name, verdict: 'BUILD FAIL', note: (e as Error).message.split('\n')[0] };
  }
  const env = { ...GUEST_ENV, USMJIT_STATS: '1' };
  const nativeRuns: RunResult[] = [];
  for (let i = 0; i < o.runs; i++) {
    progress(`  ${name}: native run ${i + 1}/${o.runs}`);
    const r = runNative(bin, { env, timeoutMs: o.timeoutMs });
    nativeRuns.push(r);
    if (exitStatus(r) !== 0 || r.error) return { name, verdict: 'NATIVE FAIL', note: failure(r) };
  }
  const native = nativeRuns[0];
  const row: Row = { name, verdict: 'ok', nativeS: median(nativeRuns.map((r) => r.ms)) / 1000 };
  const emuTimes: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    progress(`  ${name}: usmjit run ${i + 1}/${o.runs}`);
    const r = runUsmjit(bin, { env, timeoutMs: o.timeoutMs });
    row.stats = parseStats(r.stderr) ?? row.stats;
    if (r.error || exitStatus(r) !== exitStatus(native)) {
      return { ...row, verdict: 'FAIL', note: failure(r) };
    }
    if (r.stdout !== native.stdout) {
      row.verdict = 'MISMATCH';
      row.note = 'stdout differs from the native run';
    }
    emuTimes.push(r.ms);
  }
  row.usmjitS = median(emuTimes) / 1000;
  row.ratio = row.usmjitS / (row.nativeS as number);
  return row;
}

const fmtS = (s: number | undefined) => (s === undefined ? '-' : s.toFixed(3));
const fmtN = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '-' : String(n));

function printTable(rows: Row[]): void {
  const out: string[] = [];
  out.push('| workload | native s | usmjit s | ratio | guest insns translated | blocks | compile ms |');
  out.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    let usm = fmtS(r.usmjitS);
    let ratio = r.ratio === undefined ? '-' : `${r.ratio.toFixed(1)}x`;
    if (r.verdict === 'FAIL') usm = `FAIL (${r.note})`;
    else if (r.verdict === 'MISMATCH') ratio += ' MISMATCH';
    else if (r.verdict !== 'ok') usm = `${r.verdict} (${r.note})`;
    const s = r.stats;
    out.push(
      `| ${r.name} | ${fmtS(r.nativeS)} | ${usm} | ${ratio} | ${fmtN(s?.insns)} | ${fmtN(s?.blocks)} | ${s ? s.compileMs.toFixed(1) : '-'} |`,
    );
  }
  const ok = rows.filter((r) => r.verdict === 'ok' && r.ratio !== undefined).map((r) => r.ratio as number);
  out.push('');
  out.push(
    ok.length
      ? `Median ratio (usmjit / native) over ${ok.length} of ${rows.length} workloads: **${median(ok).toFixed(2)}x**`
      : `Median ratio: n/a (no workload ran correctly under usmjit)`,
  );
  process.stdout.write(out.join('\n') + '\n');
}

interface Startup {
  what: string;
  nativeMs?: number;
  usmjitMs?: number;
  note?: string;
}

function startup(what: string, bin: string, args: string[], runs: number): Startup {
  const env = { ...GUEST_ENV };
  const nat: number[] = [];
  const emu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = runNative(bin, { args, env });
    if (exitStatus(r) !== 0) return { what, note: `native: ${failure(r)}` };
    nat.push(r.ms);
  }
  for (let i = 0; i < runs; i++) {
    progress(`  start-up ${what}: usmjit run ${i + 1}/${runs}`);
    const r = runUsmjit(bin, { args, env });
    if (r.error || exitStatus(r) !== 0) return { what, nativeMs: median(nat), note: `FAIL (${failure(r)})` };
    emu.push(r.ms);
  }
  return { what, nativeMs: median(nat), usmjitMs: median(emu) };
}

function printStartup(rows: Startup[], runs: number): void {
  const out = ['', `Start-up (wall time, median of ${runs} runs):`, '', '| program | native ms | usmjit ms |', '|---|---:|---:|'];
  for (const r of rows) {
    const n = r.nativeMs === undefined ? '-' : r.nativeMs.toFixed(1);
    const u = r.usmjitMs === undefined ? (r.note ?? '-') : r.usmjitMs.toFixed(1);
    out.push(`| ${r.what} | ${n} | ${u} |`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

/** The run as history rows (bench/history.ts): workloads in seconds, start-up in milliseconds. */
function historyRows(rows: Row[], st: Startup[]): HistoryRow[] {
  const finite = (f: Record<string, number>) => Object.fromEntries(Object.entries(f).filter(([, v]) => Number.isFinite(v)));
  const out = rows.map((r) =>
    clean({
      name: r.name,
      group: 'compute',
      unit: 's',
      native: r.nativeS,
      usmjit: r.usmjitS,
      ratio: r.ratio,
      status: r.verdict,
      note: r.note,
      translation: r.stats && finite({ ...r.stats }),
    }),
  );
  for (const s of st) {
    const ratio = s.nativeMs && s.usmjitMs !== undefined ? s.usmjitMs / s.nativeMs : undefined;
    out.push(clean({ name: s.what, group: 'startup', unit: 'ms', native: s.nativeMs, usmjit: s.usmjitMs, ratio, status: ratio === undefined ? 'FAIL' : 'ok', note: s.note }));
  }
  return out;
}

function main(): void {
  const { flags, rest } = takeHistoryFlags(process.argv.slice(2));
  const o = parseOptions(rest);
  if (!existsSync(CLI_PATH)) usage(`${CLI_PATH} is missing: run \`npm run build\` first`);
  const names = readdirSync(WORKLOADS_DIR)
    .filter((f) => f.endsWith('.c'))
    .map((f) => f.slice(0, -2))
    .filter((n) => n !== STARTUP_PROGRAM && (!o.only || o.only.has(n)))
    .sort();
  if (o.only) for (const n of o.only) if (n !== STARTUP_PROGRAM && !names.includes(n)) usage(`no workload named '${n}'`);

  const rows: Row[] = [];
  for (const name of names) {
    progress(`bench: ${name}`);
    rows.push(benchWorkload(name, o));
  }
  if (rows.length) printTable(rows);

  const st: Startup[] = [];
  if (!o.only || o.only.has(STARTUP_PROGRAM)) {
    try {
      const hello = compileC(join(WORKLOADS_DIR, `${STARTUP_PROGRAM}.c`), { cacheSubdir: 'bench' });
      st.push(startup('static hello world', hello, [], o.startupRuns));
    } catch (e) {
      st.push({ what: 'static hello world', note: `BUILD FAIL (${(e as Error).message.split('\n')[0]})` });
    }
    if (existsSync(BUSYBOX)) st.push(startup('busybox true', BUSYBOX, ['true'], o.startupRuns));
    else st.push({ what: 'busybox true', note: `${BUSYBOX} missing (apt-get install busybox-static)` });
    printStartup(st, o.startupRuns);
  }
  if (flags.record || flags.check) {
    const options = { runs: o.runs, startupRuns: o.startupRuns, ...(o.only ? { only: [...o.only].join(',') } : {}) };
    process.exitCode = finishRun(newEntry('bench', historyRows(rows, st), options), flags);
  }
}

main();
