/**
 * Guest-program helpers shared by the differential tests (test/guest.test.ts, test/busybox.test.ts)
 * and the benchmark runner (bench/run.ts): compile a C file into a cached static binary, run a
 * binary natively or under usmjit, and compare the two runs.
 *
 * No vitest imports here: bench/run.ts uses this file from dist/ at run time.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest directory above this file whose package.json is usmjit's. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'usmjit') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the usmjit repository root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export const ROOT = findRoot();
/** The emulator's command line, as built by `npm run build`. */
/** The `usmjit` command as users run it: the bundle behind its launcher (scripts/bundle.mjs). */
/** The usmjit command (native/launcher.c, built by `npm run build`). */
export const CLI_PATH = join(ROOT, 'dist', 'usmjit');
export const GUEST_DIR = join(ROOT, 'test', 'guest');
export const CACHE_DIR = join(ROOT, '.cache');
export const BUSYBOX = '/bin/busybox';

/** Throws (the test fails, loudly) if busybox-static is missing: CI installs it (.ci/run). */
export function requireBusybox(): string {
  if (!existsSync(BUSYBOX)) {
    throw new Error(`${BUSYBOX} is missing: install Debian's busybox-static (apt-get install -y busybox-static), as .ci/run does`);
  }
  return BUSYBOX;
}

/** The fixed environment given to both the native and the emulated run. */
export const GUEST_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/bin:/bin',
  HOME: '/tmp',
  LANG: 'C',
  USMJIT_TEST: '1',
});

export const DEFAULT_TIMEOUT_MS = 60_000;
const MAX_BUFFER = 512 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Per-file directives

/** What a guest C file asks of the harness through `// KEY: value` comment lines. */
export interface GuestSpec {
  /** File name without `.c`. */
  name: string;
  /** Absolute path of the C file. */
  file: string;
  /** Extra gcc flags (`// CFLAGS: -O3`), added after `-O2 -static`. */
  cflags: string[];
  /** Guest arguments (`// ARGS: a "b c" ''`), shell-style quoting. */
  args: string[];
  /** Standard input: every `// STDIN: text` line, each followed by a newline; `\t`, `\n`, `\\` escapes. */
  stdin: string;
  /** Expected exit status of the native run (`// EXIT: 139`); 0 if absent. 128+N means killed by signal N. */
  exit: number;
  /** `// XFAIL: reason`: a known emulator gap; the test is expected to fail until it is fixed. */
  xfail?: string;
}

/** Splits a command line the way a POSIX shell would for plain words, '...' and "..." quoting. */
export function splitArgs(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      cur += line.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (c === '"') {
      i++;
      for (; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) i++;
        cur += line[i];
      }
      if (i >= line.length) throw new Error(`unterminated " in: ${line}`);
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) out.push(cur);
  return out;
}

function unescape(s: string): string {
  return s.replace(/\\([tn\\])/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : '\\'));
}

/** Reads the `// KEY: value` directives of a guest C file. */
export function parseGuest(file: string): GuestSpec {
  const src = readFileSync(file, 'utf8');
  const spec: GuestSpec = { name: basename(file).replace(/\.c$/, ''), file: resolve(file), cflags: [], args: [], stdin: '', exit: 0 };
  for (const line of src.split('\n')) {
    const m = /^\/\/ ?(CFLAGS|ARGS|STDIN|EXIT|XFAIL):(?: (.*))?$/.exec(line.replace(/\r$/, ''));
    if (!m) continue;
    const value = m[2] ?? '';
    switch (m[1]) {
      case 'CFLAGS': spec.cflags.push(...splitArgs(value)); break;
      case 'ARGS': spec.args.push(...splitArgs(value)); break;
      case 'STDIN': spec.stdin += unescape(value) + '\n'; break;
      case 'EXIT': spec.exit = Number.parseInt(value.trim(), 10); break;
      case 'XFAIL': spec.xfail = value.trim() || 'known failure'; break;
    }
  }
  if (!Number.isInteger(spec.exit)) throw new Error(`${file}: bad EXIT directive`);
  return spec;
}

/** Every guest test program, sorted by name. */
export function listGuests(dir = GUEST_DIR): GuestSpec[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.c'))
    .sort()
    .map((f) => parseGuest(join(dir, f)));
}

// ---------------------------------------------------------------------------------------------
// Compiling

let gccVersion: string | undefined;
function gccIdentity(): string {
  if (gccVersion === undefined) {
    const r = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error('gcc is required to build guest programs: ' + (r.error?.message ?? r.stderr));
    gccVersion = r.stdout.split('\n')[0];
  }
  return gccVersion;
}

export interface CompileOptions {
  /** Subdirectory of .cache/ for the binaries (default `guest`). */
  cacheSubdir?: string;
  /** Flags after `-O2 -static` (default: the file's `// CFLAGS:`). */
  cflags?: string[];
  /** static (default): `-static`; dynamic: linked against the host's shared libc; shared: a `-shared -fPIC` library. */
  link?: 'static' | 'dynamic' | 'shared';
  /** Linker arguments after the source (`-L dir -lfoo`), before `-lm`. */
  ldflags?: string[];
}

/**
 * Compiles a C file with `gcc -O2 -static <cflags> -o out file -lm` (or a dynamic program or a
 * shared library, see CompileOptions.link) into
 * `.cache/<subdir>/<name>-<hash>`, where the hash covers the source, the headers beside it, the
 * flags and the gcc version. An existing output is reused. Safe to call from parallel processes:
 * the binary is written under a unique name and renamed into place.
 */
export function compileC(file: string, opts: CompileOptions = {}): string {
  const abs = resolve(file);
  const name = basename(abs).replace(/\.c$/, '');
  const cflags = opts.cflags ?? parseGuest(abs).cflags;
  const link = opts.link ?? 'static';
  const args = ['-O2', ...(link === 'static' ? ['-static'] : link === 'shared' ? ['-shared', '-fPIC'] : []), ...cflags];
  const ldflags = opts.ldflags ?? [];
  const h = createHash('sha256');
  h.update(gccIdentity()).update('\0').update(args.join('\0')).update('\0').update(ldflags.join('\0')).update('\0').update(readFileSync(abs));
  const dir = dirname(abs);
  for (const inc of readdirSync(dir).filter((f) => f.endsWith('.h')).sort()) {
    h.update('\0' + inc + '\0').update(readFileSync(join(dir, inc)));
  }
  const outDir = join(CACHE_DIR, opts.cacheSubdir ?? 'guest');
  const out = join(outDir, `${name}-${h.digest('hex').slice(0, 16)}`);
  if (existsSync(out)) return out;
  mkdirSync(outDir, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const r = spawnSync('gcc', [...args, '-o', tmp, abs, ...ldflags, '-lm'], { encoding: 'utf8', maxBuffer: MAX_BUFFER });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`gcc ${[...args, abs].join(' ')} failed:\n${r.error?.message ?? ''}${r.stderr}`);
  }
  renameSync(tmp, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Running

export interface RunOptions {
  args?: string[];
  /** Standard input (default: empty). */
  input?: string | Buffer;
  /** The complete environment (default GUEST_ENV). */
  env?: Record<string, string>;
  timeoutMs?: number;
  cwd?: string;
}

export interface RunResult {
  /** Exit code, or null when killed by a signal. */
  status: number | null;
  /** The signal that killed the process (or SIGTERM after a timeout). */
  signal: NodeJS.Signals | null;
  /** Output decoded as latin1, so that every byte maps to one character and comparisons are exact. */
  stdout: string;
  stderr: string;
  /** A spawn problem or a timeout, if any. */
  error?: string;
  timedOut: boolean;
  /** Wall time of the child in milliseconds (spawn to exit). */
  ms: number;
}

function run(file: string, argv: string[], opts: RunOptions): RunResult {
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, argv, {
    input: opts.input ?? '',
    env: { ...(opts.env ?? GUEST_ENV) },
    timeout,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_BUFFER,
    encoding: 'latin1',
    cwd: opts.cwd,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const err = r.error as NodeJS.ErrnoException | undefined;
  const timedOut = err?.code === 'ETIMEDOUT';
  return {
    status: r.status,
    signal: r.signal,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    error: timedOut ? `timed out after ${timeout} ms` : err?.message,
    timedOut,
    ms,
  };
}

/** Runs a binary directly on the host. */
export function runNative(bin: string, opts: RunOptions = {}): RunResult {
  return run(bin, opts.args ?? [], opts);
}

/** Runs a binary under `dist/usmjit [cliArgs] bin args...`. */
export function runUsmjit(bin: string, opts: RunOptions & { cliArgs?: string[] } = {}): RunResult {
  return run(CLI_PATH, [...(opts.cliArgs ?? []), bin, ...(opts.args ?? [])], opts);
}

/** The shell-style exit status: the exit code, or 128+N for a process killed by signal N. */
export function exitStatus(r: RunResult): number {
  if (r.status !== null) return r.status;
  if (r.signal) return 128 + (constants.signals[r.signal] ?? 0);
  return -1;
}

/** True when the status says the process was killed by a signal (natively: r.signal is set). */
export function diedBySignal(r: RunResult): boolean {
  return r.status === null && r.signal !== null;
}

/** One line describing a run, for assertion messages. */
export function describeRun(r: RunResult): string {
  const how = r.timedOut ? r.error : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  const err = r.stderr.length > 800 ? r.stderr.slice(0, 800) + '...' : r.stderr;
  return `${how}${r.error && !r.timedOut ? ` (${r.error})` : ''}, ${r.stdout.length} bytes of stdout, stderr: ${JSON.stringify(err)}`;
}

/**
 * Where two outputs first differ, with a few lines of context, or null if they are equal.
 * Keeps assertion messages small when the outputs are hundreds of kilobytes.
 */
export function firstDifference(expected: string, actual: string, context = 3): string | null {
  if (expected === actual) return null;
  const a = expected.split('\n');
  const b = actual.split('\n');
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - context);
  const show = (lines: string[]) =>
    lines
      .slice(from, i + context + 1)
      .map((l, k) => `${String(from + k + 1).padStart(6)}| ${l.length > 300 ? l.slice(0, 300) + '...' : l}`)
      .join('\n');
  return (
    `outputs differ at line ${i + 1} (native ${a.length} lines / ${expected.length} bytes, usmjit ${b.length} lines / ${actual.length} bytes)\n` +
    `--- native\n${show(a)}\n+++ usmjit\n${show(b)}`
  );
}
