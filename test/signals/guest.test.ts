/**
 * Signal delivery end to end (needs `npm run build`): the fault round-trip loop (fault_loop.c,
 * also the benchmark for its cost) natively and under usmjit, and what --strace shows of a
 * delivery and of rt_sigreturn.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI_PATH, compileC, describeRun, exitStatus, GUEST_DIR, ROOT, runNative, runUsmjit } from '../helpers/guest.js';

const HERE = join(ROOT, 'test', 'signals');

describe('signals end to end', () => {
  beforeAll(() => {
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`);
  });

  it('survives thousands of fault / handler / rt_sigreturn round trips', () => {
    const bin = compileC(join(HERE, 'fault_loop.c'), { cacheSubdir: 'signals', cflags: [] });
    const native = runNative(bin, { args: ['3000'] });
    const emu = runUsmjit(bin, { args: ['3000'] });
    expect(exitStatus(native), describeRun(native)).toBe(0);
    expect(exitStatus(emu), describeRun(emu)).toBe(0);
    expect(emu.stdout).toBe(native.stdout);
    expect(emu.stdout).toBe('iterations=3000 faults=3000\n');
  });

  it('runs the mprotect-only baseline', () => {
    const bin = compileC(join(HERE, 'mprotect_only.c'), { cacheSubdir: 'signals', cflags: [] });
    const emu = runUsmjit(bin, { args: ['100'] });
    expect(emu.stdout, describeRun(emu)).toBe('iterations=100\n');
  });

  it('shows deliveries and rt_sigreturn in --strace', () => {
    const bin = compileC(join(GUEST_DIR, 'sig_skip.c'));
    const emu = runUsmjit(bin, { cliArgs: ['--strace'] });
    expect(exitStatus(emu), describeRun(emu)).toBe(0);
    expect(emu.stderr).toContain('--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x40} ---');
    expect(emu.stderr).toContain('--- SIGILL {si_signo=SIGILL, si_code=ILL_ILLOPN, si_addr=0x');
    expect(emu.stderr).toContain('--- SIGFPE {si_signo=SIGFPE, si_code=FPE_INTDIV, si_addr=0x');
    expect(emu.stderr).toContain('--- SIGTRAP {si_signo=SIGTRAP, si_code=SI_KERNEL} ---');
    expect(emu.stderr).toMatch(/^rt_sigreturn\(\) = 1064$/m); // the rax the handler supplied (1000 + si_addr)
  });

  it('reports a fatal fault the same way with a handler that cannot run', () => {
    const bin = compileC(join(GUEST_DIR, 'sig_blocked_fault.c'));
    const emu = runUsmjit(bin, { cliArgs: ['--strace'] });
    expect(exitStatus(emu)).toBe(139);
    expect(emu.stderr).toContain('--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---\n+++ killed by SIGSEGV +++');
    expect(emu.stderr).toMatch(/^usmjit: guest killed by SIGSEGV/m);
  });
});
