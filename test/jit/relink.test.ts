/**
 * Relinking (jit/code-cache.ts CodeCache.relink): the regions compiled in a run, one module each,
 * are linked into one module compiled in the background, and their table slots then run the new
 * module's copies (compiled in the background by TurboFan from the start; with
 * USMJIT_RELINK=always at once and lazily, as other modules are). Every run is compared with the native run of the same binary (stdout, exit
 * status); --stats counts the regions relinked. USMJIT_RELINK=always relinks every region compiled
 * so far at every budget exit (several relinks a run, regions compiled between them, regions that
 * grow or are promoted while a relink compiles); auto relinks a long shell loop's hot regions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileC, describeRun, exitStatus, GUEST_ENV, requireBusybox, ROOT, runNative, runUsmjit, type RunResult } from '../helpers/guest.js';

function stat(r: RunResult, name: string): number {
  const m = new RegExp(`${name}=(\\d+)`).exec(r.stderr);
  if (!m) throw new Error(`no --stats line: ${describeRun(r)}`);
  return Number(m[1]);
}

describe('relinking regions into one module', () => {
  const busybox = requireBusybox();
  // Relinking needs the regions' images, which are kept while a translation cache is attached.
  const home = mkdtempSync(join(tmpdir(), 'usmjit-relink-'));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  let fresh = 0;
  const env = (mode: string) => ({ ...GUEST_ENV, XDG_CACHE_HOME: join(home, String(fresh++)), USMJIT_RELINK: mode });

  const cases: [string, string, string[]][] = [
    ['a busybox sh loop', busybox, ['sh', '-c', 'i=0; s=; while [ $i -lt 20000 ]; do i=$((i+1)); s=${s}x; [ ${#s} -gt 40 ] && s=; done; echo $i ${#s}']],
    ['a busybox awk loop', busybox, ['awk', 'BEGIN { for (i = 0; i < 100000; i++) { s += i * 2; t = t substr("abc", i % 3 + 1, 1); if (length(t) > 50) t = "" } print s, t }']],
    ['a C program looping 4M times', compileC(join(ROOT, 'test', 'jit', 'loop_head.c'), { cacheSubdir: 'jit' }), []],
  ];
  for (const [what, bin, args] of cases) {
    it(`always: ${what} prints what it prints natively`, () => {
      const native = runNative(bin, { args, env: GUEST_ENV });
      const r = runUsmjit(bin, { args, cliArgs: ['--stats'], env: env('always') });
      expect(r.stdout, describeRun(r)).toBe(native.stdout);
      expect(exitStatus(r)).toBe(exitStatus(native));
      expect(stat(r, 'relinks'), r.stderr).toBeGreaterThan(1);
      expect(stat(r, 'relinked'), r.stderr).toBeGreaterThan(0);
    });
  }

  // auto relinks only on the V8 whose compilation hints it was measured with (code-cache.ts HINTS_KNOWN).
  const hintsKnown = /^11\./.test(process.versions.v8);
  it(`auto: a long shell loop with many hot regions has them relinked${hintsKnown ? '' : ' (not on this V8)'}, off has none`, () => {
    const args = ['sh', '-c', 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; echo $i'];
    const native = runNative(busybox, { args, env: GUEST_ENV });
    for (const mode of ['auto', 'off']) {
      const r = runUsmjit(busybox, { args, cliArgs: ['--stats'], env: env(mode) });
      expect(r.stdout, describeRun(r)).toBe(native.stdout);
      expect(exitStatus(r)).toBe(exitStatus(native));
      if (mode === 'auto' && hintsKnown) expect(stat(r, 'relinked'), r.stderr).toBeGreaterThanOrEqual(64);
      else expect(stat(r, 'relinks'), r.stderr).toBe(0);
    }
  });

  it('an unknown USMJIT_RELINK is a one-line error', () => {
    const r = runUsmjit(busybox, { args: ['true'], env: { ...GUEST_ENV, USMJIT_RELINK: 'sometimes' } });
    expect(exitStatus(r)).toBe(1);
    expect(r.stderr).toBe('usmjit: USMJIT_RELINK=sometimes: expected auto, off or always\n');
  });
});
