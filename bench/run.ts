/**
 * `npm run bench`: compiles each compute workload in bench/workloads with `gcc -O2 -static`, and
 * takes the real programs of bench/programs.ts (bash-static and busybox); runs each natively, under
 * usmjit and under qemu-x86_64 when it is on PATH, checks that the outputs agree, and prints one
 * markdown table of wall times (and usmjit's CPU time) with ratios and usmjit's translation
 * statistics (from USMJIT_STATS=1), then the geometric mean ratio per group. Also measures
 * start-up: a static hello world and `busybox true` (median of 5 runs each), cold (an empty cache
 * directory each run) and with a warm cache (after one run that fills it).
 *
 * usmjit's caches (the persistent translation cache and the V8 code cache, under
 * $XDG_CACHE_HOME/usmjit) live in a directory of the bench's own: every workload run starts with
 * an empty one, so the workload figures include translation, as for a program run the first time.
 * --warm times them with a warm cache instead (after one untimed run), as for a program run again.
 *
 *   node dist/bench/run.js [--only name,name] [--runs N] [--scale F] [--timeout SECONDS] [--startup-runs N] [--record] [--check]
 *
 * --scale F multiplies the real programs' sizes (iterations, the text file's 20 MB) by F for a
 * quick run; the default, 1, is the issue's sizes. A real program whose binary is missing is
 * reported as MISSING with the package to install, and makes the run fail only when --only named it.
 *
 * --record appends the run to the history (bench/history), --check compares it with the last
 * recorded runs and exits 1 naming a benchmark whose ratio is more than 10% worse (bench/record.ts).
 * --runs N times each workload N times on each side and reports the medians (default 1).
 * A workload that fails or times out under usmjit is reported as FAIL; one whose output differs
 * from the native run as MISMATCH. Neither stops the run.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

import { programs } from './programs.js';

const WORKLOADS_DIR = join(ROOT, 'bench', 'workloads');
const QEMU = findOnPath('qemu-x86_64');

function findOnPath(name: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(':')) if (d && existsSync(join(d, name))) return join(d, name);
  return undefined;
}

/**
 * CPU seconds (user + sys) of the reaped children so far, from /proc/self/stat (cutime, cstime):
 * spawnSync reaps its child, so the difference around it is that child's CPU time, compiler
 * threads included. 100 Hz ticks; the machine is shared, so this is steadier than wall time.
 */
function childCpuS(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / 100; // fields 16 and 17, counted from the state (3)
  } catch {
    return Number.NaN;
  }
}
const STARTUP_PROGRAM = 'hello';

interface Options {
  only?: Set<string>;
  runs: number;
  scale: number;
  timeoutMs: number;
  startupRuns: number;
  /** Time workloads with a warm translation cache (one untimed run fills it first). */
  warm: boolean;
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`bench: ${msg}\n`);
  process.stderr.write(`usage: node dist/bench/run.js [--only name,name] [--runs N] [--scale F] [--timeout SECONDS] [--startup-runs N] [--warm] ${HISTORY_USAGE}\n`);
  process.exit(msg ? 2 : 0);
}

function parseOptions(argv: string[]): Options {
  const o: Options = { runs: 1, scale: 1, timeoutMs: 600_000, startupRuns: 5, warm: false };
  const positive = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) usage(`${flag} needs a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') o.only = new Set((argv[++i] ?? '').split(',').filter(Boolean));
    else if (a === '--runs') o.runs = Math.floor(positive(a, argv[++i]));
    else if (a === '--scale') o.scale = positive(a, argv[++i]);
    else if (a === '--timeout') o.timeoutMs = positive(a, argv[++i]) * 1000;
    else if (a === '--startup-runs') o.startupRuns = Math.floor(positive(a, argv[++i]));
    else if (a === '--warm') o.warm = true;
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
  group: 'compute' | 'programs';
  nativeS?: number;
  usmjitS?: number;
  /** usmjit's CPU time (user + sys, its compiler threads included), median. */
  usmjitCpuS?: number;
  ratio?: number;
  qemuS?: number;
  /** Why qemu has no time: not installed, or its run failed or disagreed. */
  qemuNote?: string;
  stats?: Stats;
  verdict: 'ok' | 'FAIL' | 'MISMATCH' | 'NATIVE FAIL' | 'BUILD FAIL' | 'MISSING';
  note?: string;
}

function progress(msg: string): void {
  process.stderr.write(msg + '\n');
}

/** One benchmark: a binary with its arguments, run on each side and compared. */
interface Job {
  name: string;
  group: Row['group'];
  bin: string;
  args: string[];
}

/** A run on one side, timed by wall clock and CPU. */
function timed(run: () => RunResult): { r: RunResult; cpuS: number } {
  const c0 = childCpuS();
  const r = run();
  return { r, cpuS: childCpuS() - c0 };
}

function benchJob(job: Job, o: Options): Row {
  const { name, group, bin, args } = job;
  const env = { ...GUEST_ENV, USMJIT_STATS: '1' };
  const opts = { args, env, timeoutMs: o.timeoutMs };
  const nativeRuns: RunResult[] = [];
  for (let i = 0; i < o.runs; i++) {
    progress(`  ${name}: native run ${i + 1}/${o.runs}`);
    const r = runNative(bin, opts);
    nativeRuns.push(r);
    if (exitStatus(r) !== 0 || r.error) return { name, group, verdict: 'NATIVE FAIL', note: failure(r) };
  }
  const native = nativeRuns[0];
  const row: Row = { name, group, verdict: 'ok', nativeS: median(nativeRuns.map((r) => r.ms)) / 1000 };
  const emuTimes: number[] = [];
  const emuCpu: number[] = [];
  const warmHome = freshCacheHome();
  if (o.warm) {
    progress(`  ${name}: usmjit run to fill the cache`);
    runUsmjit(bin, { ...opts, env: { ...env, XDG_CACHE_HOME: warmHome } });
  }
  for (let i = 0; i < o.runs; i++) {
    progress(`  ${name}: usmjit run ${i + 1}/${o.runs}`);
    const { r, cpuS } = timed(() => runUsmjit(bin, { ...opts, env: { ...env, XDG_CACHE_HOME: o.warm ? warmHome : freshCacheHome() } }));
    row.stats = parseStats(r.stderr) ?? row.stats;
    if (r.error || exitStatus(r) !== exitStatus(native)) {
      return { ...row, verdict: 'FAIL', note: failure(r) };
    }
    if (r.stdout !== native.stdout) {
      row.verdict = 'MISMATCH';
      row.note = 'stdout differs from the native run';
    }
    emuTimes.push(r.ms);
    emuCpu.push(cpuS);
  }
  row.usmjitS = median(emuTimes) / 1000;
  row.usmjitCpuS = median(emuCpu);
  row.ratio = row.usmjitS / (row.nativeS as number);
  if (!QEMU) {
    row.qemuNote = 'not installed';
    return row;
  }
  const qemuTimes: number[] = [];
  for (let i = 0; i < o.runs; i++) {
    progress(`  ${name}: qemu run ${i + 1}/${o.runs}`);
    const r = runNative(QEMU, { ...opts, args: [bin, ...args] });
    if (r.error || exitStatus(r) !== exitStatus(native)) {
      row.qemuNote = `FAIL (${failure(r)})`;
      return row;
    }
    if (r.stdout !== native.stdout) {
      row.qemuNote = 'MISMATCH';
      return row;
    }
    qemuTimes.push(r.ms);
  }
  row.qemuS = median(qemuTimes) / 1000;
  return row;
}

function benchWorkload(name: string, o: Options): Row {
  let bin: string;
  try {
    bin = compileC(join(WORKLOADS_DIR, `${name}.c`), { cacheSubdir: 'bench' });
  } catch (e) {
    return { name, group: 'compute', verdict: 'BUILD FAIL', note: (e as Error).message.split('\n')[0] };
  }
  return benchJob({ name, group: 'compute', bin, args: [] }, o);
}

const fmtS = (s: number | undefined) => (s === undefined || Number.isNaN(s) ? '-' : s.toFixed(3));
const fmtN = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '-' : String(n));
const fmtX = (x: number | undefined) => (x === undefined ? '-' : `${x.toFixed(1)}x`);

function geomean(xs: number[]): number {
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

function printTable(rows: Row[]): void {
  const out: string[] = [];
  out.push('| workload | group | native s | usmjit s | usmjit cpu s | qemu s | ratio | qemu ratio | guest insns translated | blocks | compile ms |');
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    let usm = fmtS(r.usmjitS);
    let ratio = fmtX(r.ratio);
    if (r.verdict === 'FAIL') usm = `FAIL (${r.note})`;
    else if (r.verdict === 'MISMATCH') ratio += ' MISMATCH';
    else if (r.verdict !== 'ok') usm = `${r.verdict} (${r.note})`;
    const qemu = r.qemuS !== undefined ? fmtS(r.qemuS) : r.qemuNote ?? '-';
    const qratio = r.qemuS !== undefined && r.nativeS ? fmtX(r.qemuS / r.nativeS) : '-';
    const s = r.stats;
    out.push(
      `| ${r.name} | ${r.group} | ${fmtS(r.nativeS)} | ${usm} | ${fmtS(r.usmjitCpuS)} | ${qemu} | ${ratio} | ${qratio} | ${fmtN(s?.insns)} | ${fmtN(s?.blocks)} | ${s ? s.compileMs.toFixed(1) : '-'} |`,
    );
  }
  out.push('');
  for (const group of ['compute', 'programs'] as const) {
    const g = rows.filter((r) => r.group === group);
    if (!g.length) continue;
    const ok = g.filter((r) => r.verdict === 'ok' && r.ratio !== undefined);
    const usm = ok.length ? `usmjit **${geomean(ok.map((r) => r.ratio as number)).toFixed(2)}x** over ${ok.length} of ${g.length}` : 'usmjit n/a (none ran correctly)';
    const q = g.filter((r) => r.qemuS !== undefined && r.nativeS);
    const qemu = q.length ? `qemu-user **${geomean(q.map((r) => (r.qemuS as number) / (r.nativeS as number))).toFixed(2)}x** over ${q.length}` : 'qemu-user n/a';
    out.push(`Geomean ratio to native, ${group}: ${usm}; ${qemu}`);
  }
  if (!QEMU) out.push('', 'qemu-user is not installed: `apt-get install qemu-user` gives the qemu column.');
  process.stdout.write(out.join('\n') + '\n');
}

/** A new empty cache home for usmjit (XDG_CACHE_HOME), removed when the bench ends. */
const cacheHomes: string[] = [];
function freshCacheHome(): string {
  const d = mkdtempSync(join(tmpdir(), 'usmjit-bench-cache-'));
  cacheHomes.push(d);
  return d;
}
process.on('exit', () => { for (const d of cacheHomes) rmSync(d, { recursive: true, force: true }); });

interface Startup {
  what: string;
  nativeMs?: number;
  usmjitMs?: number;
  qemuMs?: number;
  note?: string;
}

/**
 * `cache`: 'cold' runs usmjit with an empty cache directory each time; 'warm' fills one with a run
 * first and times the runs after it.
 */
function startup(what: string, bin: string, args: string[], runs: number, cache: 'cold' | 'warm' = 'cold'): Startup {
  const env = { ...GUEST_ENV };
  const warmHome = freshCacheHome();
  if (cache === 'warm') runUsmjit(bin, { args, env: { ...env, XDG_CACHE_HOME: warmHome } });
  const nat: number[] = [];
  const emu: number[] = [];
  const qemu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = runNative(bin, { args, env });
    if (exitStatus(r) !== 0) return { what, note: `native: ${failure(r)}` };
    nat.push(r.ms);
  }
  for (let i = 0; i < runs; i++) {
    progress(`  start-up ${what}: usmjit run ${i + 1}/${runs}`);
    const r = runUsmjit(bin, { args, env: { ...env, XDG_CACHE_HOME: cache === 'warm' ? warmHome : freshCacheHome() } });
    if (r.error || exitStatus(r) !== 0) return { what, nativeMs: median(nat), note: `FAIL (${failure(r)})` };
    emu.push(r.ms);
  }
  for (let i = 0; QEMU && i < runs; i++) {
    const r = runNative(QEMU, { args: [bin, ...args], env });
    if (r.error || exitStatus(r) !== 0) break;
    qemu.push(r.ms);
  }
  return { what, nativeMs: median(nat), usmjitMs: median(emu), ...(qemu.length === runs ? { qemuMs: median(qemu) } : {}) };
}

function printStartup(rows: Startup[], runs: number): void {
  const out = ['', `Start-up (wall time, median of ${runs} runs; cold: an empty cache each run):`, '', '| program | native ms | usmjit ms | qemu ms |', '|---|---:|---:|---:|'];
  for (const r of rows) {
    const n = r.nativeMs === undefined ? '-' : r.nativeMs.toFixed(1);
    const u = r.usmjitMs === undefined ? (r.note ?? '-') : r.usmjitMs.toFixed(1);
    const q = r.qemuMs === undefined ? (QEMU ? '-' : 'not installed') : r.qemuMs.toFixed(1);
    out.push(`| ${r.what} | ${n} | ${u} | ${q} |`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

/** The run as history rows (bench/history.ts): workloads in seconds, start-up in milliseconds. */
function historyRows(rows: Row[], st: Startup[]): HistoryRow[] {
  const finite = (f: Record<string, number>) => Object.fromEntries(Object.entries(f).filter(([, v]) => Number.isFinite(v)));
  const out = rows.map((r) =>
    clean({
      name: r.name,
      group: r.group,
      unit: 's',
      native: r.nativeS,
      usmjit: r.usmjitS,
      qemu: r.qemuS,
      ratio: r.ratio,
      status: r.verdict,
      note: r.note,
      translation: r.stats && finite({ ...r.stats }),
      extra: r.usmjitCpuS !== undefined && Number.isFinite(r.usmjitCpuS) ? { usmjitCpu: r.usmjitCpuS } : undefined,
    }),
  );
  for (const s of st) {
    const ratio = s.nativeMs && s.usmjitMs !== undefined ? s.usmjitMs / s.nativeMs : undefined;
    out.push(clean({ name: s.what, group: 'startup', unit: 'ms', native: s.nativeMs, usmjit: s.usmjitMs, qemu: s.qemuMs, ratio, status: ratio === undefined ? 'FAIL' : 'ok', note: s.note }));
  }
  return out;
}

function main(): void {
  const { flags, rest } = takeHistoryFlags(process.argv.slice(2));
  const o = parseOptions(rest);
  if (!existsSync(CLI_PATH)) usage(`${CLI_PATH} is missing: run \`npm run build\` first`);
  const wanted = (n: string) => !o.only || o.only.has(n);
  const names = readdirSync(WORKLOADS_DIR)
    .filter((f) => f.endsWith('.c'))
    .map((f) => f.slice(0, -2))
    .filter((n) => n !== STARTUP_PROGRAM && wanted(n))
    .sort();
  const progs = programs(o.scale, (p) => wanted(p));
  const known = new Set([...names, ...progs.all, STARTUP_PROGRAM]);
  if (o.only) for (const n of o.only) if (!known.has(n)) usage(`no workload named '${n}'`);

  const rows: Row[] = [];
  for (const name of names) {
    progress(`bench: ${name}`);
    rows.push(benchWorkload(name, o));
  }
  for (const p of progs.selected) {
    progress(`bench: ${p.name}`);
    if (p.missing) rows.push({ name: p.name, group: 'programs', verdict: 'MISSING', note: p.missing });
    else rows.push(benchJob({ name: p.name, group: 'programs', bin: p.bin, args: p.args }, o));
  }
  if (rows.length) printTable(rows);

  const st: Startup[] = [];
  if (!o.only || o.only.has(STARTUP_PROGRAM)) {
    try {
      const hello = compileC(join(WORKLOADS_DIR, `${STARTUP_PROGRAM}.c`), { cacheSubdir: 'bench' });
      st.push(startup('static hello world', hello, [], o.startupRuns));
      st.push(startup('static hello world, warm cache', hello, [], o.startupRuns, 'warm'));
    } catch (e) {
      st.push({ what: 'static hello world', note: `BUILD FAIL (${(e as Error).message.split('\n')[0]})` });
    }
    if (existsSync(BUSYBOX)) {
      st.push(startup('busybox true', BUSYBOX, ['true'], o.startupRuns));
      st.push(startup('busybox true, warm cache', BUSYBOX, ['true'], o.startupRuns, 'warm'));
    }
    else st.push({ what: 'busybox true', note: `${BUSYBOX} missing (apt-get install busybox-static)` });
    printStartup(st, o.startupRuns);
  }
  if (flags.record || flags.check) {
    const options = { runs: o.runs, startupRuns: o.startupRuns, ...(o.scale !== 1 ? { scale: o.scale } : {}), ...(o.only ? { only: [...o.only].join(',') } : {}), ...(o.warm ? { warm: true } : {}) };
    process.exitCode = finishRun(newEntry('bench', historyRows(rows, st), options), flags);
  }
  // A missing program the user asked for by name is an error; otherwise its row says what to install.
  const missing = rows.filter((r) => r.verdict === 'MISSING' && o.only?.has(r.name));
  for (const r of missing) process.stderr.write(`bench: ${r.name}: ${r.note}\n`);
  if (missing.length) process.exitCode = 1;
}

main();
