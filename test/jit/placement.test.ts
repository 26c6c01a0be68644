/**
 * Where translated code keeps guest registers (jit/code-cache.ts registerPlacement): new regions
 * keep them in the CPU block and a region that loops inside itself is recompiled with them in
 * Wasm locals (promoted). Every run is compared with the native run of the same binary (stdout,
 * exit status), in each placement; --stats says whether a promotion happened. The differential
 * tester runs its cases in both fixed placements as well (test/diff/run.ts).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileC, describeRun, exitStatus, ROOT, runNative, runUsmjit, type RunResult } from '../helpers/guest.js';

const bin = compileC(join(ROOT, 'test', 'jit', 'placement.c'), { cacheSubdir: 'jit' });

function stat(r: RunResult, name: string): number {
  const m = new RegExp(`${name}=(\\d+)`).exec(r.stderr);
  if (!m) throw new Error(`no --stats line: ${describeRun(r)}`);
  return Number(m[1]);
}
const promotions = (r: RunResult) => stat(r, 'promotions');

describe('register placement', () => {
  const native = runNative(bin);

  for (const [placement, promoted] of [['adaptive', true], ['memory', false], ['locals', false]] as const) {
    it(`${placement}: the output and status are native's${promoted ? ', and the loop is promoted' : ''}`, () => {
      const r = runUsmjit(bin, { cliArgs: ['--no-cache', '--stats'], env: { PATH: '/usr/bin:/bin', USMJIT_REGS: placement } });
      expect(r.stdout, describeRun(r)).toBe(native.stdout);
      expect(exitStatus(r)).toBe(exitStatus(native));
      if (promoted) {
        expect(promotions(r)).toBeGreaterThan(0);
        // A compiled region keeps no IR (CodeCache.release): the promoted one was decoded again.
        expect(stat(r, 'redecoded')).toBeGreaterThan(0);
      } else expect(promotions(r)).toBe(0);
    });
  }

  it('an unknown USMJIT_REGS is a one-line error', () => {
    const r = runUsmjit(bin, { env: { PATH: '/usr/bin:/bin', USMJIT_REGS: 'registers' } });
    expect(exitStatus(r)).toBe(1);
    expect(r.stderr).toBe('usmjit: USMJIT_REGS=registers: expected adaptive, memory or locals\n');
  });
});
