/**
 * How translated blocks are grouped into regions (jit/code-cache.ts): a loop stays inside one
 * region, so an iteration is a branch inside it and not a region crossing. Every run is compared
 * with the native run of the same binary; --stats counts the region entries.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileC, describeRun, exitStatus, GUEST_ENV, ROOT, runNative, runUsmjit } from '../helpers/guest.js';
import { storedIndex } from '../../src/jit/code-cache.js';
import { codeKey } from '../../src/jit/entry.js';
import type { LinkedRegions, StoredRegion } from '../../src/jit/relocation.js';

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

  it('a hot loop that makes system calls is promoted, and a cached run enters the promoted copy', () => {
    const bin = compileC(join(ROOT, 'test', 'jit', 'syscall_loop.c'), { cacheSubdir: 'jit' });
    const native = runNative(bin);
    const home = mkdtempSync(join(tmpdir(), 'usmjit-regions-'));
    try {
      const run = () => runUsmjit(bin, { cliArgs: ['--stats'], env: { ...GUEST_ENV, XDG_CACHE_HOME: home } });
      // A system call every ~4,000 block transitions: the dispatcher's budget (1M transitions) ran
      // out only if it carried over them, and promotion happens at budget exits.
      const cold = run();
      expect(cold.stdout, describeRun(cold)).toBe(native.stdout);
      expect(exitStatus(cold)).toBe(exitStatus(native));
      expect(Number(/promotions=(\d+)/.exec(cold.stderr)?.[1] ?? NaN), cold.stderr).toBeGreaterThanOrEqual(1);
      // The warm run installs stored regions: the most-entered one is a promoted copy (a block in
      // several regions is entered where the storing run entered it).
      const warm = run();
      expect(warm.stdout, describeRun(warm)).toBe(native.stdout);
      expect(/stored_regions=(\d+)/.exec(warm.stderr)?.[1], warm.stderr).not.toBe('0');
      const hottest = /hot region entries=\d+ .*regs=(\w+)/.exec(warm.stderr)?.[1];
      expect(hottest, warm.stderr).toBe('locals');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('a stored block in several regions is entered where the storing run entered it', () => {
    const block = (start: number) => ({ start, end: start + 4, code: new Uint8Array(4), insnCount: 1 });
    const region = (starts: number[], copies?: number[]) => ({ tag: 0, blocks: starts.map(block), ...(copies ? { copies } : {}) }) as unknown as StoredRegion;
    // Region 0 (a caller that grew to hold the function at 0x2000) comes first in slot order;
    // region 1 is where the run entered 0x2000. 0x3000 is a copy in both (its own region was not
    // stored): the first region holding it.
    const linked = { regions: [region([0x1000, 0x2000, 0x3000], [0x2000, 0x3000]), region([0x2000, 0x2010, 0x3000], [0x3000])] } as unknown as LinkedRegions;
    const index = storedIndex(linked);
    expect(index.get(codeKey(0x1000, 0))).toBe(0);
    expect(index.get(codeKey(0x2000, 0))).toBe(1);
    expect(index.get(codeKey(0x2010, 0))).toBe(1);
    expect(index.get(codeKey(0x3000, 0))).toBe(0);
    // Without copies lists: the first region holding the block.
    const plain = { regions: [region([0x1000, 0x2000]), region([0x2000])] } as unknown as LinkedRegions;
    expect(storedIndex(plain).get(codeKey(0x2000, 0))).toBe(0);
  });
});
