/**
 * Flags of a producer whose kind the reader's translation does not know (jit/flags.ts
 * emitCFOfAnyKind, emitAllFlagsOfAnyKind: inline instead of a call to the runtime's flags_of):
 * carry_any_kind.c reads CF through inc/dec and adc, and all six flags through bt and bsf, right
 * after a call, behind producers of every lazy-flag kind and size, in each register placement;
 * every run is compared with the native run.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileC, describeRun, exitStatus, ROOT, runNative, runUsmjit } from '../helpers/guest.js';

const bin = compileC(join(ROOT, 'test', 'jit', 'carry_any_kind.c'), { cacheSubdir: 'jit' });

describe('flags of a producer of any kind', () => {
  const native = runNative(bin);
  for (const regs of ['adaptive', 'memory', 'locals']) {
    it(`USMJIT_REGS=${regs}: native output`, () => {
      const r = runUsmjit(bin, { cliArgs: ['--no-cache'], env: { PATH: '/usr/bin:/bin', USMJIT_REGS: regs } });
      expect(r.stdout, describeRun(r)).toBe(native.stdout);
      expect(exitStatus(r)).toBe(exitStatus(native));
    });
  }
});
