/**
 * The patched glibc (glibc-patch/: Debian's glibc 2.36 whose system-call sites use vmcall at CPL0
 * and syscall otherwise), built by glibc-patch/build.sh (cached outside the tree: instant once
 * built; .ci/run builds it before the tests; a failed build fails these tests, never skips them).
 *
 *  - objdump of the built libc.so.6: every `syscall` instruction but the documented exceptions
 *    sits behind the CPL test;
 *  - USM mode: test/glibc/usm_libc.c, dynamically linked with libusm, enters USM mode with the
 *    patched libc preloaded (`-E LD_PRELOAD=`) and uses stdio, a 48 MiB malloc grown by realloc,
 *    many small mallocs, files, libm, clocks, qsort and the environment at CPL0: its stdout equals
 *    a native run's (which cannot enter USM mode), and libusm's LSTAR trampoline saw no system
 *    call; with Debian's libc the same program works through the trampoline (entries > 0);
 *  - usmbench-dyn's libc_syscall line names the path each libc took;
 *  - Linux mode: test/glibc/plain.c (libc work, threads, fork, posix_spawn, ucontext, signals,
 *    syscall()) prints the same with Debian's libc natively, the patched libc natively and the
 *    patched libc under usmjit.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assert, beforeAll, describe, expect, it } from 'vitest';
import { parseOutput, supported, USM_DIR } from '../../bench/usm/run.js';
import {
  CLI_PATH, compileC, describeRun, exitStatus, firstDifference, GUEST_ENV, ROOT, runNative, runUsmjit, type RunResult,
} from '../helpers/guest.js';
import { bareSyscalls, buildPatchedLibc, compileWithLibusm } from './patched-libc.js';

const DIR = join(ROOT, 'test', 'glibc');
const DEBIAN_LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
const ENV = { ...GUEST_ENV, USMJIT_LIBC_TEST: 'from the test' };
const SLOW = 20 * 60_000;

let libc = '';

/** usm_libc.c and usmbench-dyn: dynamic programs with libusm (built from a private copy). */
const compileUsmLibc = (): string => compileWithLibusm('usm_libc', [join(DIR, 'usm_libc.c')], [join(DIR, 'libc_work.h')]);
const compileUsmbenchDyn = (): string =>
  compileWithLibusm('usmbench-dyn', [join(USM_DIR, 'usmbench.c')], [join(USM_DIR, 'benchtime.h')]);

function ok(what: string, r: RunResult): void {
  expect(r.timedOut, `${what}: ${describeRun(r)}`).toBe(false);
  expect(exitStatus(r), `${what}: ${describeRun(r)}`).toBe(0);
}

function sameStdout(what: string, expected: RunResult, actual: RunResult): void {
  const d = firstDifference(expected.stdout, actual.stdout);
  if (d !== null) assert.fail(`stdout of ${what} differs (${describeRun(actual)})\n${d}`);
}

beforeAll(() => {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`);
  libc = buildPatchedLibc();
}, 90 * 60_000);

describe('glibc-patch: the patched libc.so.6', () => {
  it('makes every system call behind the CPL test, but for the documented exceptions', () => {
    // __restore_rt: the signal-return trampoline, whose exact bytes unwinders (libgcc, gdb)
    // recognise; at CPL0 signals arrive as IDT vectors, never through a Linux signal frame.
    expect(bareSyscalls(libc).map((s) => s.func)).toEqual(['__restore_rt']);
  });

  it('USM mode: a dynamic program uses libc at CPL0 through vmcall, printing what a native run prints', () => {
    const bin = compileUsmLibc();
    const native = runNative(bin, { env: ENV });
    ok('native usm_libc', native);
    expect(native.stderr).toMatch(/^usm: not entered \(No such file or directory\)/);
    const emu = runUsmjit(bin, { env: ENV, cliArgs: ['-E', `LD_PRELOAD=${libc}`], timeoutMs: SLOW });
    ok('usm_libc under usmjit with the patched libc', emu);
    sameStdout('usm_libc (patched libc, USM mode)', native, emu);
    expect(emu.stdout).toContain('env: USMJIT_LIBC_TEST=from the test\n');
    expect(emu.stderr).toBe(`usm: CPL0, LSTAR trampoline entries: 0, libc: ${libc}\n`);
  });

  it("USM mode: with Debian's libc the same program reaches Linux through libusm's LSTAR trampoline", () => {
    const bin = compileUsmLibc();
    const native = runNative(bin, { env: ENV });
    const emu = runUsmjit(bin, { env: ENV, timeoutMs: SLOW });
    ok("usm_libc under usmjit with Debian's libc", emu);
    sameStdout("usm_libc (Debian's libc, USM mode)", native, emu);
    const m = /^usm: CPL0, LSTAR trampoline entries: (\d+), libc: (.*)\n$/.exec(emu.stderr);
    expect(m, emu.stderr).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(50);
    expect(m![2]).toBe(DEBIAN_LIBC);
  });

  it("usmbench-dyn: libc_syscall takes vmcall with the patched libc and the trampoline with Debian's", () => {
    const bin = compileUsmbenchDyn();
    const args = ['-t', 'syscall,libc_syscall', '0.01'];
    const patched = runUsmjit(bin, { args, env: ENV, cliArgs: ['-E', `LD_PRELOAD=${libc}`], timeoutMs: SLOW });
    const debian = runUsmjit(bin, { args, env: ENV, timeoutMs: SLOW });
    for (const [what, r, path] of [['patched', patched, /^# libc_path: vmcall inline/m], ['debian', debian, /^# libc_path: LSTAR trampoline \(3000 entries in 3000 calls\)/m]] as const) {
      ok(`usmbench-dyn (${what} libc)`, r);
      const p = parseOutput(r.stdout);
      expect(supported(p.results.get('libc_syscall')), r.stdout).toBe(true);
      expect(p.checks.get('libc_syscall'), r.stdout).toEqual(['# libc_syscall: getppid() agrees with the raw system call: yes']);
      expect(r.stdout).toMatch(path);
    }
  });

  it("Linux mode: a plain program prints the same with Debian's libc, the patched one natively and under usmjit", () => {
    const bin = compileC(join(DIR, 'plain.c'), { cacheSubdir: 'glibc', link: 'dynamic', cflags: ['-pthread'] });
    const debian = runNative(bin, { env: ENV });
    ok("plain with Debian's libc", debian);
    expect(debian.stderr).toBe(`libc: ${DEBIAN_LIBC}\n`);
    const patchedNative = runNative(bin, { env: { ...ENV, LD_PRELOAD: libc } });
    ok('plain with the patched libc, natively', patchedNative);
    expect(patchedNative.stderr).toBe(`libc: ${libc}\n`);
    sameStdout('plain (patched libc, native)', debian, patchedNative);
    const emu = runUsmjit(bin, { env: ENV, cliArgs: ['-E', `LD_PRELOAD=${libc}`], timeoutMs: SLOW });
    ok('plain with the patched libc under usmjit', emu);
    expect(emu.stderr).toBe(`libc: ${libc}\n`);
    sameStdout('plain (patched libc, usmjit)', debian, emu);
  });
});
