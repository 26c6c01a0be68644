/**
 * Call-free memory slow paths (jit/emitter.ts EmitHost.missExit): in regions with their registers
 * in Wasm locals a TLB miss leaves the region (Exit.Miss), the dispatcher fills the TLB
 * (vmx/linux-mode.ts fillFor) and the instruction runs again; an access no TLB entry can serve
 * (a page-crossing one, a write to a page of translated code) has its region recompiled with
 * slow-path calls (CodeCache.missCalls). miss_exit.c meets each case in a hot loop, and a fault
 * whose handler reads the loop's registers; every run is compared with the native run.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileC, describeRun, exitStatus, ROOT, runNative, runUsmjit, type RunResult } from '../helpers/guest.js';

const bin = compileC(join(ROOT, 'test', 'jit', 'miss_exit.c'), { cacheSubdir: 'jit' });

function stat(r: RunResult, name: string): number {
  const m = new RegExp(`${name}=(\\d+)`).exec(r.stderr);
  if (!m) throw new Error(`no --stats line: ${describeRun(r)}`);
  return Number(m[1]);
}

describe('TLB misses that leave the region', () => {
  const native = runNative(bin);

  it('every region in locals (all leave on a miss): native output; page-crossing and code-page writes fall back to calls', () => {
    const r = runUsmjit(bin, { cliArgs: ['--no-cache', '--stats'], env: { PATH: '/usr/bin:/bin', USMJIT_REGS: 'locals' } });
    expect(r.stdout, describeRun(r)).toBe(native.stdout);
    expect(exitStatus(r)).toBe(exitStatus(native));
    expect(stat(r, 'miss_calls')).toBeGreaterThan(0);
  });

  it('adaptive placement (promoted loops leave on a miss): native output', () => {
    const r = runUsmjit(bin, { cliArgs: ['--no-cache', '--stats'], env: { PATH: '/usr/bin:/bin' } });
    expect(r.stdout, describeRun(r)).toBe(native.stdout);
    expect(exitStatus(r)).toBe(exitStatus(native));
    expect(stat(r, 'promotions')).toBeGreaterThan(0);
  });

  it('USMJIT_MISS_EXIT=0 (slow-path calls everywhere): native output, nothing falls back', () => {
    const r = runUsmjit(bin, { cliArgs: ['--no-cache', '--stats'], env: { PATH: '/usr/bin:/bin', USMJIT_REGS: 'locals', USMJIT_MISS_EXIT: '0' } });
    expect(r.stdout, describeRun(r)).toBe(native.stdout);
    expect(stat(r, 'miss_calls')).toBe(0);
  });
});
