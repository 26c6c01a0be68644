/**
 * linbench (bench/usm/linbench.c) at a tiny scale, natively and under usmjit (needs `npm run
 * build`): every test prints its line on both sides (a timing or `unsupported`), and the
 * correctness lines (`# `) of the tests both sides ran are the same. Timings are not compared.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareChecks, parseOutput, supported, TESTS, USM_DIR } from '../../bench/usm/run.js';
import { CLI_PATH, compileC, describeRun, exitStatus, runNative, runUsmjit } from '../helpers/guest.js';

const SCALE = '0.02';

describe('linbench', () => {
  let bin: string;
  beforeAll(() => {
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`);
    bin = compileC(join(USM_DIR, 'linbench.c'), { cacheSubdir: 'usm', cflags: [] });
  });

  it('parses result lines', () => {
    const p = parseOutput('# x: ok\nsyscall: cycles=12 ns=3.4\ntimer: unsupported (timer_create: Function not implemented)\nnoise\n');
    expect(p.results.get('syscall')).toEqual({ cycles: 12, ns: 3.4 });
    expect(p.results.get('timer')).toEqual({ unsupported: 'timer_create: Function not implemented' });
    expect(p.checks.get('x')).toEqual(['# x: ok']);
  });

  it('prints every test and the same correctness lines natively and under usmjit', () => {
    const native = runNative(bin, { args: [SCALE] });
    const emu = runUsmjit(bin, { args: [SCALE], timeoutMs: 120_000 });
    expect(exitStatus(native), describeRun(native)).toBe(0);
    expect(exitStatus(emu), describeRun(emu)).toBe(0);
    const n = parseOutput(native.stdout), u = parseOutput(emu.stdout);
    for (const name of TESTS) {
      expect(n.results.has(name), `native: no line for ${name}\n${native.stdout}`).toBe(true);
      expect(u.results.has(name), `usmjit: no line for ${name}\n${emu.stdout}`).toBe(true);
    }
    expect(compareChecks(n, u, TESTS)).toEqual([]);
    // The header, and the tests usmjit runs today (timer: linux-abi/timers.ts; interpose:
    // linux-abi/seccomp.ts; watchpoint needs perf_event_open, which usmjit does not have).
    expect(u.checks.get('linbench')).toEqual(n.checks.get('linbench'));
    for (const name of ['syscall', 'kernel_fault', 'user_fault', 'appel1', 'appel2', 'trap', 'dirty_scan', 'timer', 'interpose']) {
      expect(supported(u.results.get(name)), `usmjit: ${name}: ${JSON.stringify(u.results.get(name))}`).toBe(true);
    }
    expect(u.checks.get('dirty_scan')?.[0]).toMatch(/found exactly the written pages in (\d+) of \1 cycles/);
  });

  it('runs only the tests named with -t', () => {
    const emu = runUsmjit(bin, { args: ['-t', 'syscall,trap', SCALE] });
    expect(exitStatus(emu), describeRun(emu)).toBe(0);
    expect([...parseOutput(emu.stdout).results.keys()]).toEqual(['syscall', 'trap']);
  });
});
