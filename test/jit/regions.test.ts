/**
 * How translated blocks are grouped into regions (jit/code-cache.ts): a loop stays inside one
 * region, so an iteration is a branch inside it and not a region crossing. Every run is compared
 * with the native run of the same binary; --stats counts the region entries.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileC, describeRun, exitStatus, ROOT, runNative, runUsmjit } from '../helpers/guest.js';

describe('region formation', () => {
  it('a loop whose head is in the middle of a batch block stays in the batch (SPLIT_BLOCKS)', () => {
    const bin = compileC(join(ROOT, 'test', 'jit', 'loop_head.c'), { cacheSubdir: 'jit' });
    const native = runNative(bin);
    const r = runUsmjit(bin, { cliArgs: ['--no-cache', '--stats'], env: { PATH: '/usr/bin:/bin' } });
    expect(r.stdout, describeRun(r)).toBe(native.stdout);
    expect(exitStatus(r)).toBe(exitStatus(native));
    // The loop runs 4,000,000 times; split across two regions it entered them 8,000,000 times.
    const entries = Number(/region_entries=(\d+)/.exec(r.stderr)?.[1] ?? NaN);
    expect(entries, r.stderr).toBeLessThan(100_000);
  });
});
