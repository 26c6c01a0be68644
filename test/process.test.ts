/**
 * The process model (process/scheduler.ts): guest processes fork, exec, wait, talk through pipes
 * and signal each other inside one usmjit. Everything is compared with a native run of the same
 * binaries (stdout, stderr, exit status):
 *  - test/process/fork.c, static and dynamic: a pipe from an exec'd child, distinct exit codes,
 *    a child killed by SIGTERM and one by its own fault, copy-on-write, waitid, SIGCHLD, vfork,
 *    process groups;
 *  - test/process/threads.c, static and dynamic: 4 pthreads with a mutex counter, a
 *    condition-variable barrier, thread-local storage (__thread and pthread keys), join and
 *    pthread_exit; test/process/thread_signals.c: signals to threads (pthread_kill, per-thread
 *    masks, EINTR in a blocked thread, sigwait);
 *  - real programs nobody here wrote: busybox sh and bash (dynamic) with pipelines, command
 *    substitution, subshells, $(( )) and PIPESTATUS; busybox tar -czf - | tar -tzf -; make on a
 *    small Makefile (it runs its recipes through /bin/sh); perl's system and backticks; sqlite3
 *    with a recursive CTE;
 *  - usmjit itself dies of the signal that killed the first guest process (its parent's waitpid
 *    sees WIFSIGNALED), silently for SIGPIPE as natively.
 *
 * The host programs are prerequisites (.ci/run installs them): a missing one fails loudly.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, assert, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI_PATH, compileC, describeRun, exitStatus, firstDifference, GUEST_ENV, ROOT, runNative, runUsmjit, type RunResult,
} from './helpers/guest.js';

const SRC = join(ROOT, 'test', 'process');
const ENV = { ...GUEST_ENV, TZ: 'UTC', LC_ALL: 'C' };
/** Every exec'd program translates its code afresh: a script that runs several takes a while. */
const SLOW = 10 * 60_000;

function need(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing (.ci/run installs the test prerequisites)`);
  return path;
}

/** bash names a job it reports by pid (%5d): guest pids are usmjit's, not the host's. */
const jobPids = (s: string): string => s.replace(/line (\d+): +\d+ /g, 'line $1: PID ');

function same(what: string, native: RunResult, emu: RunResult, norm = (s: string) => s): void {
  expect(native.timedOut, `native ${what}: ${describeRun(native)}`).toBe(false);
  expect(emu.timedOut, `usmjit ${what}: ${describeRun(emu)}`).toBe(false);
  expect(emu.error, `usmjit ${what}: ${describeRun(emu)}`).toBeUndefined();
  const out = firstDifference(native.stdout, emu.stdout);
  if (out !== null) assert.fail(`stdout of ${what} differs (usmjit: ${describeRun(emu)})\n${out}`);
  const err = firstDifference(norm(native.stderr), norm(emu.stderr));
  if (err !== null) assert.fail(`stderr of ${what} differs\n${err}`);
  expect(exitStatus(emu), `exit status of ${what}`).toBe(exitStatus(native));
  expect(emu.signal, `how usmjit ended for ${what}`).toBe(native.signal);
}

function both(what: string, bin: string, args: string[], opts: { cwd?: string; input?: string; norm?: (s: string) => string } = {}): RunResult {
  const native = runNative(bin, { args, env: ENV, cwd: opts.cwd, input: opts.input, timeoutMs: SLOW });
  const emu = runUsmjit(bin, { args, env: ENV, cwd: opts.cwd, input: opts.input, timeoutMs: SLOW });
  same(what, native, emu, opts.norm);
  return native;
}

let tmp = '';

beforeAll(() => {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`);
  tmp = mkdtempSync(join(tmpdir(), 'usmjit-proc-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('processes: C programs', () => {
  it('fork, exec, wait, pipes, signals, copy-on-write (static)', () => {
    const r = both('fork.c (static)', compileC(join(SRC, 'fork.c'), { cacheSubdir: 'process', cflags: [] }), []);
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('SIGTERM: signaled 1, signal 15');
  }, SLOW);

  it('fork, exec, wait, pipes, signals, copy-on-write (dynamic)', () => {
    need('/lib64/ld-linux-x86-64.so.2');
    both('fork.c (dynamic)', compileC(join(SRC, 'fork.c'), { cacheSubdir: 'process', cflags: [], link: 'dynamic' }), []);
  }, SLOW);
});

describe('threads: C programs', () => {
  for (const link of ['static', 'dynamic'] as const) {
    it(`4 pthreads: a mutex counter, a condition-variable barrier, TLS, join, pthread_exit (${link})`, () => {
      const bin = compileC(join(SRC, 'threads.c'), { cacheSubdir: 'process', cflags: ['-pthread'], link });
      const r = both(`threads.c (${link})`, bin, []);
      expect(r.stdout).toContain('counter 80000 (expected 80000)');
      expect(r.stdout).toContain('distinct tids 4');
    }, SLOW);
  }
});

describe('threads and signals', () => {
  it('pthread_kill reaches the named thread, kill the one not blocking it, EINTR in a thread, sigwait', () => {
    const bin = compileC(join(SRC, 'thread_signals.c'), { cacheSubdir: 'process', cflags: ['-pthread'], link: 'dynamic' });
    const r = both('thread_signals.c', bin, []);
    expect(r.stdout).toContain('handled by the named thread: 1');
    expect(r.stdout).toContain('EINTR 1');
  }, SLOW);
});

describe('processes: shells and tools', () => {
  it('busybox sh: pipelines, command substitution, subshells, $(( )), exit statuses', () => {
    const script = [
      'for i in 3 1 2; do echo $i; done | sort | tr "\\n" " "; echo',
      'x=$(echo inner | tr a-z A-Z); echo "sub: $x $((6 * 7))"',
      '(echo in a subshell; exit 4); echo "status $?"',
      'echo one two three | { read a b c; echo "$c $b $a"; }',
      'false | true; echo "pipeline $?"',
      'seq 1 2000 | grep -c 7',
      'sh -c "exit 9"; echo "child sh $?"',
      'kill -TERM $$; echo not reached',
    ].join('\n');
    both('busybox sh -c', need('/bin/busybox'), ['sh', '-c', script]);
  }, SLOW);

  it('busybox tar -czf - dir | tar -tzf -', () => {
    const dir = join(tmp, 'tree');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'a.txt'), 'alpha\n'.repeat(500));
    writeFileSync(join(dir, 'sub', 'b.txt'), 'beta\n');
    both('tar | tar', need('/bin/busybox'), ['sh', '-c', 'busybox tar -czf - tree | busybox tar -tzf - | sort'], { cwd: tmp });
  }, SLOW);

  it('bash: pipelines, $( ), subshells, $(( )), PIPESTATUS, a child killed by a signal', () => {
    const script = [
      'set -o pipefail',
      'printf "%s\\n" c a b | sort | cat -n',
      'n=$(seq 5 | wc -l); echo "lines: $n, sum: $(( n * (n + 1) / 2 ))"',
      '( cd / && pwd ); pwd >/dev/null',
      'false | true; echo "PIPESTATUS ${PIPESTATUS[*]}"',
      'bash -c "kill -KILL \\$\\$"; echo "killed child: $?"',
      'x=$( (echo deep; echo er) | tail -1 ); echo "$x"',
      'exit 5',
    ].join('\n');
    const r = both('bash -c', need('/bin/bash'), ['-c', script], { norm: jobPids });
    expect(r.stderr).toMatch(/Killed/);
  }, SLOW);

  it('make runs its recipes through /bin/sh', () => {
    const dir = join(tmp, 'mk');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Makefile'), 'all: out.txt\n\t@echo "made: $$(cat out.txt)"\nout.txt:\n\techo built > out.txt\n');
    rmSync(join(dir, 'out.txt'), { force: true });
    const native = runNative(need('/usr/bin/make'), { args: ['-s', '-C', dir], env: ENV, timeoutMs: SLOW });
    rmSync(join(dir, 'out.txt'), { force: true });
    const emu = runUsmjit('/usr/bin/make', { args: ['-s', '-C', dir], env: ENV, timeoutMs: SLOW });
    same('make', native, emu);
    expect(emu.stdout).toContain('made: built');
  }, SLOW);

  it('perl: system and backticks', () => {
    both('perl', need('/usr/bin/perl'), ['-e', 'my $x = `echo back`; chomp $x; print "[$x]\\n"; system("sh", "-c", "exit 3"); print $? >> 8, "\\n";']);
  }, SLOW);

  it('sash -c runs an external command', () => {
    both('sash -c', need('/bin/sash'), ['-c', '/bin/echo from sash']);
  }, SLOW);

  it('gcc -O2 hello.c -o hello && ./hello (gcc forks cc1, as, collect2 and ld)', () => {
    const dir = join(tmp, 'gcc');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hello, world"); return 7; }\n');
    const script = 'gcc -O2 hello.c -o hello && ./hello';
    const native = runNative('/bin/sh', { args: ['-c', script], env: ENV, cwd: dir, timeoutMs: SLOW });
    rmSync(join(dir, 'hello'), { force: true });
    const emu = runUsmjit('/bin/sh', { args: ['-c', script], env: ENV, cwd: dir, timeoutMs: SLOW });
    same('gcc hello.c', native, emu);
    expect(emu.stdout).toBe('hello, world\n');
    expect(exitStatus(emu)).toBe(7);
  }, SLOW);

  it('sqlite3 :memory: with a recursive CTE', () => {
    both('sqlite3', need('/usr/bin/sqlite3'), [':memory:', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) SELECT sum(x), group_concat(x) FROM c;']);
  }, SLOW);
});

describe('death by signal', () => {
  it('usmjit dies of the signal that killed the guest; SIGPIPE silently', () => {
    const sh = need('/bin/busybox');
    // The guest kills itself with SIGTERM: usmjit's parent sees WIFSIGNALED with SIGTERM, no report.
    const native = runNative(sh, { args: ['sh', '-c', 'echo before; kill -TERM $$; echo after'], env: ENV });
    const emu = runUsmjit(sh, { args: ['sh', '-c', 'echo before; kill -TERM $$; echo after'], env: ENV, timeoutMs: SLOW });
    same('kill -TERM $$', native, emu);
    expect(emu.signal).toBe('SIGTERM');
    // yes into a pipe whose reader left: SIGPIPE, nothing on stderr (bash reports the status).
    const cmd = (prefix: string) => `${prefix}/usr/bin/yes | head -n 2; echo "status \${PIPESTATUS[0]}"`;
    const n = spawnSync('/bin/bash', ['-c', cmd('')], { encoding: 'utf8', env: ENV });
    const u = spawnSync('/bin/bash', ['-c', cmd(`${CLI_PATH} `)], { encoding: 'utf8', env: ENV, timeout: SLOW });
    expect(u.stdout).toBe(n.stdout);
    expect(u.stdout).toContain('status 141');
    expect(u.stderr).toBe('');
  }, SLOW);
});
