/**
 * The persistent translation cache (jit/translation-store.ts): what a run compiles is stored per
 * program under $XDG_CACHE_HOME/usmjit, and the next run installs it instead of translating. Every
 * run here is compared with a native run of the same binary (stdout, exit status); --stats says
 * where the code came from:
 *  - a cold run stores; a warm run translates nothing (no batch, Capstone never loaded);
 *  - a binary whose code bytes differ from the stored ones under the same cache file rejects the
 *    regions that cover them and translates those afresh (the output is the new binary's);
 *  - a damaged file is ignored and replaced; --no-cache reads and writes nothing;
 *  - two runs storing at once leave a file the next run uses;
 *  - subshells (fork without exec) install what their parent adopted;
 *  - a dynamically linked program (ld.so, libc at addresses usmjit chose) runs warm too;
 *  - a warm run of a program whose cold run grew regions grows none and leaves the file as it is.
 */
import { spawn, spawnSync } from 'node:child_process';
import { deserialize } from 'node:v8';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_PATH, compileC, describeRun, GUEST_ENV, ROOT, runNative, runUsmjit, type RunResult } from '../helpers/guest.js';

const SRC = join(ROOT, 'test', 'jit', 'store_variant.c');
const v1 = compileC(SRC, { cacheSubdir: 'store', cflags: ['-DVARIANT=1'] });
const v2 = compileC(SRC, { cacheSubdir: 'store', cflags: ['-DVARIANT=2'] });
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

function cacheHome(): string {
  const d = mkdtempSync(join(tmpdir(), 'usmjit-store-'));
  dirs.push(d);
  return d;
}

/** The counters of --stats' first line. */
function stats(r: RunResult): Record<string, number> {
  const line = r.stderr.split('\n').find((l) => l.startsWith('usmjit-stats: stored_regions='));
  if (!line) throw new Error(`no --stats line: ${describeRun(r)}`);
  return Object.fromEntries(line.slice('usmjit-stats: '.length).split(' ').map((kv) => { const [k, v] = kv.split('='); return [k, Number(v)]; }));
}

function emu(bin: string, home: string, extra: string[] = [], args: string[] = []): RunResult {
  return runUsmjit(bin, { cliArgs: ['--stats', ...extra], args, env: { ...GUEST_ENV, XDG_CACHE_HOME: home } });
}

function sameAsNative(bin: string, r: RunResult, args: string[] = []): void {
  const n = runNative(bin, { args });
  expect(r.stdout, describeRun(r)).toBe(n.stdout);
  expect(r.status, describeRun(r)).toBe(n.status);
}

const jitFiles = (home: string) => (existsSync(join(home, 'usmjit')) ? readdirSync(join(home, 'usmjit')).filter((n) => n.endsWith('.jit')) : []);

describe('persistent translation cache', () => {
  it('a cold run stores what it compiled; a warm run translates nothing and agrees with native', () => {
    const home = cacheHome();
    const cold = emu(v1, home);
    sameAsNative(v1, cold);
    expect(stats(cold).batches).toBeGreaterThan(50);
    expect(stats(cold).stored_regions).toBe(0);
    expect(jitFiles(home)).toHaveLength(1);
    // Each body is stored once, in the linked module: the images' bodies are where `bodies` says.
    const { linked } = deserialize(readFileSync(join(home, 'usmjit', jitFiles(home)[0]))) as {
      linked: { regions: { image: { body: Uint8Array } }[]; module: Uint8Array; bodies: Int32Array };
    };
    expect(linked.bodies.length).toBe(2 * linked.regions.length);
    expect(linked.regions.every((r) => r.image.body.length === 0)).toBe(true);
    for (let k = 0; k < linked.bodies.length; k += 2) {
      expect(linked.bodies[k]).toBeLessThan(linked.bodies[k + 1]);
      expect(linked.bodies[k + 1]).toBeLessThanOrEqual(linked.module.length);
    }
    for (const args of [[], ['a', 'b']]) {
      const warm = emu(v1, home, [], args);
      sameAsNative(v1, warm, args);
      const s = stats(warm);
      expect(s.stored_regions, describeRun(warm)).toBeGreaterThan(50);
      expect(s.batches, describeRun(warm)).toBe(0);
      expect(s.decoded, 'Capstone decoded nothing').toBe(0);
      expect(s.js_calls, 'stored regions ran JS-implemented ops (rebuilt)').toBeGreaterThan(0);
    }
  });

  it('regions whose code bytes changed are rejected and translated again', () => {
    const home = cacheHome();
    sameAsNative(v1, emu(v1, home));
    // Put v1's stored translations where v2 looks for its own: same layout, other bytes in mix().
    // (The file's name, a hash of the program and of usmjit's build, as the CLI computes it.)
    const scratch = cacheHome();
    sameAsNative(v2, emu(v2, scratch));
    const dir = join(home, 'usmjit');
    copyFileSync(join(dir, jitFiles(home)[0]), join(dir, jitFiles(scratch)[0]));
    const r = emu(v2, home);
    sameAsNative(v2, r);
    expect(r.stdout).toContain('variant 2');
    const s = stats(r);
    expect(s.stored_rejected, describeRun(r)).toBeGreaterThan(0);
    expect(s.stored_regions, 'the unchanged regions (libc) are still used').toBeGreaterThan(50);
    expect(s.batches).toBeGreaterThan(0);
  });

  it('a damaged file is ignored and replaced; --no-cache neither reads nor writes', () => {
    const home = cacheHome();
    sameAsNative(v1, emu(v1, home));
    const file = join(home, 'usmjit', jitFiles(home)[0]);
    const good = readFileSync(file);
    for (const bad of [good.subarray(0, good.length >> 1), Buffer.from('not a cache file'), Buffer.alloc(0)]) {
      writeFileSync(file, bad);
      const r = emu(v1, home);
      sameAsNative(v1, r);
      expect(stats(r).stored_regions).toBe(0);
      expect(r.stderr).not.toContain('internal error');
    }
    expect(stats(emu(v1, home)).batches, 'replaced by a good file').toBe(0);
    const none = cacheHome();
    const r = emu(v1, none, ['--no-cache']);
    sameAsNative(v1, r);
    expect(jitFiles(none)).toHaveLength(0);
    // And a warm cache is not read with --no-cache.
    expect(stats(emu(v1, home, ['--no-cache'])).stored_regions).toBe(0);
  });

  it('two runs storing at once leave a file the next run uses', async () => {
    const home = cacheHome();
    const once = () => new Promise<number | null>((res) => {
      const p = spawn(CLI_PATH, [v1], { env: { ...GUEST_ENV, XDG_CACHE_HOME: home }, stdio: 'ignore' });
      p.on('exit', (code) => res(code));
    });
    const codes = await Promise.all([once(), once(), once()]);
    const n = runNative(v1);
    expect(codes).toEqual([n.status, n.status, n.status]);
    expect(jitFiles(home)).toHaveLength(1);
    expect(readdirSync(join(home, 'usmjit')).filter((f) => f.endsWith('.tmp'))).toHaveLength(0);
    const warm = emu(v1, home);
    sameAsNative(v1, warm);
    expect(stats(warm).batches).toBe(0);
  });

  it('forked children (subshells) install the stored regions their parent adopted', () => {
    const home = cacheHome();
    const args = ['sh', '-c', 'for i in 1 2 3; do x=$(echo "$i"; echo sub); echo "$x" | tr a-z A-Z; done; (exit 3)'];
    const n = runNative('/bin/busybox', { args });
    for (let k = 0; k < 2; k++) {
      const r = runUsmjit('/bin/busybox', { cliArgs: ['--stats'], args, env: { ...GUEST_ENV, XDG_CACHE_HOME: home } });
      expect(r.stdout, describeRun(r)).toBe(n.stdout);
      expect(r.status, describeRun(r)).toBe(n.status);
      if (k === 1) expect(stats(r).batches).toBe(0);
    }
  });

  it('a process saving keeps the regions other processes of the program saved before it', () => {
    // The child runs child_only() and ends first; the parent saves last. Before the merge the
    // parent's file held only its own regions, and every child translated its code at every run.
    const bin = compileC(join(ROOT, 'test', 'jit', 'store_fork.c'), { cacheSubdir: 'store' });
    const nm = spawnSync('nm', [bin], { encoding: 'utf8' });
    const addr = parseInt(/^([0-9a-f]+) T child_only$/m.exec(nm.stdout)![1], 16);
    const home = cacheHome();
    sameAsNative(bin, emu(bin, home));
    const [file] = jitFiles(home);
    const f = deserialize(readFileSync(join(home, 'usmjit', file))) as { linked: { regions: { blocks: { start: number; end: number }[] }[] } };
    expect(f.linked.regions.some((r) => r.blocks.some((b) => b.start <= addr && addr < b.end))).toBe(true);
    const warm = emu(bin, home);
    sameAsNative(bin, warm);
    expect(stats(warm).batches).toBe(0);
  });

  it('a dynamically linked program runs warm (ld.so and libc mapped where usmjit put them)', () => {
    const dyn = compileC(SRC, { cacheSubdir: 'store', cflags: ['-DVARIANT=3'], link: 'dynamic' });
    const home = cacheHome();
    sameAsNative(dyn, emu(dyn, home));
    const warm = emu(dyn, home);
    sameAsNative(dyn, warm);
    expect(stats(warm).stored_regions).toBeGreaterThan(50);
    expect(stats(warm).batches).toBe(0);
  });

  it('a warm run grows no region and leaves the stored file as it is', () => {
    // A shell loop makes regions grow (region growth, jit/code-cache.ts) in its cold run.
    const home = cacheHome();
    const args = ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; echo $i'];
    const cold = emu('/bin/busybox', home, [], args);
    sameAsNative('/bin/busybox', cold, args);
    expect(stats(cold).grows, describeRun(cold)).toBeGreaterThan(0);
    const [file] = jitFiles(home);
    const before = statSync(join(home, 'usmjit', file));
    for (let k = 0; k < 2; k++) {
      const warm = emu('/bin/busybox', home, [], args);
      sameAsNative('/bin/busybox', warm, args);
      expect(stats(warm).batches, describeRun(warm)).toBe(0);
      expect(stats(warm).grows, describeRun(warm)).toBe(0);
    }
    const after = statSync(join(home, 'usmjit', file));
    expect([after.mtimeMs, after.size]).toEqual([before.mtimeMs, before.size]);
  });
});
