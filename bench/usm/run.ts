/**
 * `npm run bench:usm`: the USM micro-benchmarks (issue 4). Builds bench/usm with make (linbench,
 * and usmbench once bench/usm/usmbench.c exists), runs usmbench under usmjit, linbench under
 * usmjit and linbench natively, and prints one markdown table of nanoseconds per operation with
 * the ratios. Both programs print `name: cycles=<n> ns=<x>` or `name: unsupported (<reason>)` per
 * test, and correctness lines starting with `# ` (see bench/usm/linbench.c).
 *
 *   node dist/bench/usm/run.js [--scale S] [--only name,name] [--timeout SECONDS] [--patched-libc PATH]
 *                              [--record] [--check]
 *
 * --patched-libc PATH (the libc.so.6 glibc-patch/build.sh prints): also runs the dynamically linked
 * usmbench-dyn's syscall and libc_syscall tests twice, with Debian's libc and with PATH preloaded,
 * as the rows `libc_syscall_dyn_debian` (glibc's `syscall` at CPL0 through libusm's LSTAR
 * trampoline) and `libc_syscall_dyn_patched` (vmcall inline).
 *
 * --record and --check as for `npm run bench` (bench/record.ts): the ratio tracked is usmbench
 * under usmjit / linbench natively.
 * --scale multiplies the programs' iteration counts (default 1); --only runs only those tests.
 * linbench's `# ` lines of the native and the usmjit run are compared for the tests both sides
 * ran; a difference is reported under the table and makes the exit status 1, as does a
 * native linbench run that fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_PATH, exitStatus, GUEST_ENV, ROOT, runNative, runUsmjit, type RunResult } from '../../test/helpers/guest.js';
import { clean, type HistoryRow } from '../history.js';
import { finishRun, HISTORY_USAGE, newEntry, takeHistoryFlags } from '../record.js';

export const USM_DIR = join(ROOT, 'bench', 'usm');
/** The tests of issue 4, in table order. */
export const TESTS = [
  'syscall', 'libc_syscall', 'kernel_fault', 'user_fault', 'appel1', 'appel2', 'trap', 'interpose', 'dirty_scan', 'watchpoint', 'timer',
] as const;

/** One test's result line: a timing, or why the test could not run. */
export type Result = { cycles: number; ns: number } | { unsupported: string };

export interface Parsed {
  results: Map<string, Result>;
  /** `# ` lines by test name (the word before the first colon). */
  checks: Map<string, string[]>;
}

/** Reads the `name: cycles=N ns=X`, `name: unsupported (reason)` and `# name: ...` lines. */
export function parseOutput(stdout: string): Parsed {
  const results = new Map<string, Result>();
  const checks = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    let m = /^#\s*([A-Za-z0-9_]+):/.exec(line);
    if (m) {
      if (!checks.has(m[1])) checks.set(m[1], []);
      checks.get(m[1])!.push(line);
      continue;
    }
    m = /^([A-Za-z0-9_]+): cycles=(\d+) ns=([0-9.]+)\s*$/.exec(line);
    if (m) {
      results.set(m[1], { cycles: Number(m[2]), ns: Number(m[3]) });
      continue;
    }
    m = /^([A-Za-z0-9_]+): unsupported(?: \((.*)\))?\s*$/.exec(line);
    if (m) results.set(m[1], { unsupported: m[2] ?? '' });
  }
  return { results, checks };
}

export const supported = (r: Result | undefined): r is { cycles: number; ns: number } => r !== undefined && 'ns' in r;

/**
 * The `# ` lines that must agree between two runs: those of the tests both ran (a test one side
 * cannot do has no correctness lines there). Returns a description of each difference.
 */
export function compareChecks(a: Parsed, b: Parsed, names: Iterable<string>): string[] {
  const out: string[] = [];
  for (const name of names) {
    if (!supported(a.results.get(name)) || !supported(b.results.get(name))) continue;
    const x = (a.checks.get(name) ?? []).join('\n'), y = (b.checks.get(name) ?? []).join('\n');
    if (x !== y) out.push(`${name}:\n  native: ${x || '(none)'}\n  usmjit: ${y || '(none)'}`);
  }
  return out;
}

interface Options {
  scale: number;
  only?: string[];
  timeoutMs: number;
  patchedLibc?: string;
}

function usage(msg?: string): never {
  if (msg) process.stderr.write(`bench:usm: ${msg}\n`);
  process.stderr.write(`usage: node dist/bench/usm/run.js [--scale S] [--only name,name] [--timeout SECONDS] [--patched-libc PATH] ${HISTORY_USAGE}\n`);
  process.exit(msg ? 2 : 0);
}

function parseOptions(argv: string[]): Options {
  const o: Options = { scale: 1, timeoutMs: 600_000 };
  const positive = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) usage(`${flag} needs a positive number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--scale') o.scale = positive(a, argv[++i]);
    else if (a === '--only') o.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--timeout') o.timeoutMs = positive(a, argv[++i]) * 1000;
    else if (a === '--patched-libc') {
      o.patchedLibc = argv[++i];
      if (!o.patchedLibc || !existsSync(o.patchedLibc)) usage(`--patched-libc needs an existing libc.so.6 (glibc-patch/build.sh prints it)`);
    }
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument '${a}'`);
  }
  return o;
}

const progress = (msg: string): void => void process.stderr.write(msg + '\n');

/** Why a run failed, in a few words. */
function failure(r: RunResult): string {
  if (r.timedOut) return 'timeout';
  if (r.error) return r.error.split('\n')[0];
  const why = r.stderr.split('\n').find((l) => l.startsWith('usmjit:') || l.startsWith('linbench:'));
  const st = r.signal ? r.signal : `exit ${exitStatus(r)}`;
  return why ? `${st}: ${why.slice(0, 120)}` : st;
}

interface Column {
  title: string;
  parsed?: Parsed;
  /** Set when the program failed or did not run (its results may still be partial). */
  note?: string;
  /** The program does not exist (yet): its cells show '-'. */
  missing?: boolean;
}

function runColumn(title: string, run: () => RunResult): Column {
  progress(`bench:usm: ${title}`);
  const r = run();
  const parsed = parseOutput(r.stdout);
  if (r.error || exitStatus(r) !== 0) {
    if (r.stderr.trim()) progress(r.stderr.trim().split('\n').slice(-5).join('\n'));
    return { title, parsed, note: failure(r) };
  }
  return { title, parsed };
}

function cell(c: Column, name: string, notes: string[]): string {
  const r = c.parsed?.results.get(name);
  if (r === undefined) return c.note && !c.missing ? 'FAIL' : '-';
  if (supported(r)) return r.ns.toFixed(1);
  notes.push(`${c.title}: ${name}: unsupported${r.unsupported ? ` (${r.unsupported})` : ''}`);
  return 'unsupported';
}

function ratio(a: Result | undefined, b: Result | undefined): string {
  if (!supported(a) || !supported(b) || b.ns === 0) return '-';
  const x = a.ns / b.ns;
  return `${x >= 10 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(2)}x`;
}

/** The run as history rows (bench/history.ts): usmbench under usmjit against linbench natively, in ns per operation. */
function historyRows(names: string[], usm: Column, linUsm: Column, linNat: Column): HistoryRow[] {
  const why = (c: Column, r: Result | undefined) => (r !== undefined ? 'unsupported' : c.note ? 'FAIL' : 'missing');
  return names.map((n) => {
    const u = usm.parsed?.results.get(n), lu = linUsm.parsed?.results.get(n), ln = linNat.parsed?.results.get(n);
    const usmjit = supported(u) ? u.ns : undefined, native = supported(ln) ? ln.ns : undefined;
    const ratio = usmjit !== undefined && native ? usmjit / native : undefined;
    const status = ratio !== undefined ? 'ok' : usmjit === undefined ? `usmbench: ${why(usm, u)}` : `linbench native: ${why(linNat, ln)}`;
    return clean({ name: n, group: 'usm', unit: 'ns/op', native, usmjit, ratio, status, extra: supported(lu) ? { linbenchUsmjit: lu.ns } : undefined });
  });
}

/**
 * usmbench-dyn's libc_syscall with Debian's libc and with the patched one preloaded, as rows
 * `libc_syscall_dyn_debian` / `libc_syscall_dyn_patched` of the usmbench column (its parsed
 * results gain them). Returns notes: which path each run's calls took (`# libc_path:`).
 */
function libcRows(o: Options, usm: Column, names: string[]): string[] {
  const bin = join(USM_DIR, 'usmbench-dyn');
  const notes: string[] = [];
  const runs: [string, string[]][] = [['debian', []], ['patched', ['-E', `LD_PRELOAD=${o.patchedLibc}`]]];
  for (const [which, cliArgs] of runs) {
    const row = `libc_syscall_dyn_${which}`;
    const c = runColumn(`usmbench-dyn, ${which} libc (usmjit)`, () =>
      runUsmjit(bin, { args: ['-t', 'syscall,libc_syscall', String(o.scale)], cliArgs, env: { ...GUEST_ENV }, timeoutMs: o.timeoutMs }));
    const r = c.parsed?.results.get('libc_syscall');
    if (r !== undefined && usm.parsed) usm.parsed.results.set(row, r);
    if (!names.includes(row)) names.push(row);
    const path = c.parsed?.checks.get('libc_path')?.[0]?.replace(/^#\s*libc_path:\s*/, '');
    notes.push(`${row}: ${c.note ? `FAIL (${c.note})` : path ?? 'no # libc_path line'}`);
  }
  return notes;
}

function main(): number {
  const { flags, rest } = takeHistoryFlags(process.argv.slice(2));
  const o = parseOptions(rest);
  if (!existsSync(CLI_PATH)) usage(`${CLI_PATH} is missing: run \`npm run build\` first`);
  if (o.only) for (const n of o.only) if (!(TESTS as readonly string[]).includes(n)) usage(`no test named '${n}'`);

  progress('bench:usm: make -C bench/usm');
  const make = spawnSync('make', ['-C', USM_DIR], { encoding: 'utf8' });
  if (make.error || make.status !== 0) {
    process.stderr.write(`bench:usm: make -C bench/usm failed:\n${make.error?.message ?? ''}${make.stdout}${make.stderr}`);
    return 1;
  }
  const linbench = join(USM_DIR, 'linbench');
  const usmbench = join(USM_DIR, 'usmbench');
  const args = [...(o.only ? ['-t', o.only.join(',')] : []), String(o.scale)];
  const run = { args, env: { ...GUEST_ENV }, timeoutMs: o.timeoutMs };

  const usm: Column = existsSync(usmbench)
    ? runColumn('usmbench (usmjit)', () => runUsmjit(usmbench, run))
    : { title: 'usmbench (usmjit)', note: 'not built (bench/usm/usmbench.c does not exist yet)', missing: true };
  const linUsm = runColumn('linbench (usmjit)', () => runUsmjit(linbench, run));
  const linNat = runColumn('linbench (native)', () => runNative(linbench, run));

  const names: string[] = [...(o.only ?? TESTS)];
  for (const c of [usm, linUsm, linNat]) {
    for (const n of c.parsed?.results.keys() ?? []) if (!names.includes(n)) names.push(n);
  }
  const libcNotes = o.patchedLibc ? libcRows(o, usm, names) : [];
  const notes: string[] = [];
  const out: string[] = [];
  out.push(`| test | ${usm.title} ns | ${linUsm.title} ns | ${linNat.title} ns | usm/native ratio | linbench usmjit/native |`);
  out.push('|---|---:|---:|---:|---:|---:|');
  for (const n of names) {
    const u = usm.parsed?.results.get(n), lu = linUsm.parsed?.results.get(n), ln = linNat.parsed?.results.get(n);
    out.push(`| ${n} | ${cell(usm, n, notes)} | ${cell(linUsm, n, notes)} | ${cell(linNat, n, notes)} | ${ratio(u, ln)} | ${ratio(lu, ln)} |`);
  }
  out.push('');
  out.push(`ns per operation (scale ${o.scale}); usm/native = usmbench under usmjit / linbench natively. What one operation is: bench/usm/linbench.c.`);
  for (const c of [usm, linUsm, linNat]) if (c.note) out.push(`- ${c.title}: ${c.note}`);
  for (const n of libcNotes) out.push(`- ${n}`);
  for (const n of notes) out.push(`- ${n}`);

  let status = 0;
  if (linNat.note) status = 1;
  if (linNat.parsed && linUsm.parsed) {
    const diffs = compareChecks(linNat.parsed, linUsm.parsed, names);
    if (diffs.length) {
      status = 1;
      out.push('', 'linbench correctness lines differ between the native and the usmjit run:', ...diffs);
    } else if (!linUsm.note) {
      out.push('', 'linbench correctness lines (`# `): the native and the usmjit run agree.');
    }
  }
  process.stdout.write(out.join('\n') + '\n');
  if (flags.record || flags.check) {
    const entry = newEntry('bench:usm', historyRows(names, usm, linUsm, linNat), { scale: o.scale, ...(o.only ? { only: o.only.join(',') } : {}) });
    status = Math.max(status, finishRun(entry, flags));
  }
  return status;
}

// Run only as the program (the vitest test imports the parser).
if (process.argv[1] && /bench[\\/]usm[\\/]run\.js$/.test(process.argv[1])) process.exitCode = main();
