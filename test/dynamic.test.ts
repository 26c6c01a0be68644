/**
 * Dynamically linked programs: PT_INTERP loads the host's ld.so, which maps libc and friends with
 * file-backed mmap and runs them. Everything is compared with a native run of the same binary
 * (stdout, stderr, exit status):
 *  - real programs nobody here wrote: /bin/ls -la of a directory the test builds (fixed names,
 *    sizes, modes and mtimes), python3 -c with json/hashlib/zlib, perl -e with hashes and sort,
 *    find and tar over a tree (they print in getdents order: the host's own);
 *  - C programs built here without -static: libm and stdio; the auxiliary vector (AT_PHDR,
 *    AT_ENTRY, AT_BASE) and the vDSO (AT_SYSINFO_EHDR) as the program sees them; an LD_PRELOAD library overriding
 *    rand() (`-E LD_PRELOAD=` against a native `LD_PRELOAD=`); a library found only through
 *    LD_LIBRARY_PATH, or through `-L PREFIX` as installed under PREFIX.
 *
 * The host programs are prerequisites (.ci/run installs python3): a missing one fails loudly.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, assert, beforeAll, describe, expect, it } from 'vitest';
import {
  CLI_PATH, compileC, describeRun, exitStatus, firstDifference, GUEST_ENV, ROOT, runNative, runUsmjit, type RunResult,
} from './helpers/guest.js';

const DIR = join(ROOT, 'test', 'dynamic');
const ENV = { ...GUEST_ENV, TZ: 'UTC', PYTHONDONTWRITEBYTECODE: '1' };
/** Under load a dynamic program's start-up (ld.so, libc, translation) takes a while: python3 most. */
const SLOW = 20 * 60_000;

function need(path: string, how: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${how} (.ci/run installs the test prerequisites)`);
  return path;
}

/** The two runs agree on stdout, stderr and the exit status. */
function same(what: string, native: RunResult, emu: RunResult): void {
  expect(native.timedOut, `native ${what}: ${describeRun(native)}`).toBe(false);
  expect(emu.timedOut, `usmjit ${what}: ${describeRun(emu)}`).toBe(false);
  expect(emu.error, `usmjit ${what}: ${describeRun(emu)}`).toBeUndefined();
  const out = firstDifference(native.stdout, emu.stdout);
  if (out !== null) assert.fail(`stdout of ${what} differs (usmjit: ${describeRun(emu)})\n${out}`);
  const err = firstDifference(native.stderr, emu.stderr);
  if (err !== null) assert.fail(`stderr of ${what} differs\n${err}`);
  expect(exitStatus(emu), `exit status of ${what}`).toBe(exitStatus(native));
}

function both(what: string, bin: string, args: string[], opts: { cwd?: string; cliArgs?: string[]; nativeEnv?: Record<string, string> } = {}): RunResult {
  const native = runNative(bin, { args, env: { ...ENV, ...opts.nativeEnv }, cwd: opts.cwd, timeoutMs: SLOW });
  const emu = runUsmjit(bin, { args, env: ENV, cwd: opts.cwd, cliArgs: opts.cliArgs, timeoutMs: SLOW });
  same(what, native, emu);
  return native;
}

let tmp = '';

beforeAll(() => {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`);
  need('/lib64/ld-linux-x86-64.so.2', 'the host dynamic loader');
  tmp = mkdtempSync(join(tmpdir(), 'usmjit-dyn-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A directory tree with fixed names, contents, modes and times (its parent's too: `ls -la` shows ..). */
function fixedTree(root: string): string {
  const top = join(root, 'tree');
  mkdirSync(join(top, 'sub', 'deeper'), { recursive: true });
  mkdirSync(join(top, 'empty'));
  const files: [string, string, number][] = [
    ['README', 'read me\n', 0o644], ['script.sh', '#!/bin/sh\necho hi\n', 0o755], ['zeta.txt', 'z'.repeat(5000), 0o600],
    ['Alpha', '', 0o640], ['.hidden', 'secret\n', 0o400], ['sub/one', '1\n', 0o644], ['sub/deeper/two', '22\n', 0o644],
    ['sub/deeper/three', '333\n', 0o644], ['with space', 'x\n', 0o644], ['0-numeric', '0\n', 0o644],
  ];
  for (const [name, body, mode] of files) {
    writeFileSync(join(top, name), body);
    chmodSync(join(top, name), mode);
  }
  symlinkSync('README', join(top, 'link-to-readme'));
  symlinkSync('missing-target', join(top, 'dangling'));
  let t = Date.UTC(2021, 2, 4, 5, 6, 7) / 1000;
  const stamp = (p: string) => { utimesSync(p, t, t); t += 3607; };
  for (const [name] of files) stamp(join(top, name));
  for (const d of ['sub/deeper', 'sub', 'empty']) stamp(join(top, d));
  stamp(top);
  stamp(root);
  return top;
}

describe('real dynamically linked programs: native vs usmjit', () => {
  it('/bin/ls -la of a fixed directory', () => {
    const root = mkdtempSync(join(tmp, 'ls-'));
    const top = fixedTree(root);
    both('ls -la', need('/bin/ls', 'coreutils'), ['-la', top]);
    both('ls -laR --time-style=full-iso', '/bin/ls', ['-laR', '--time-style=full-iso', 'tree'], { cwd: root });
  }, SLOW);

  it('find and tar list a tree in the host directory order (getdents)', () => {
    const root = mkdtempSync(join(tmp, 'order-'));
    fixedTree(root);
    for (let i = 0; i < 60; i++) writeFileSync(join(root, 'tree', 'sub', `f${(i * 37) % 101}`), `${i}\n`);
    utimesSync(join(root, 'tree', 'sub'), 1600000000, 1600000000);
    both('find', need('/usr/bin/find', 'findutils'), ['tree', '-printf', '%p %y %s %m\n'], { cwd: root });
    const native = both('tar', need('/bin/tar', 'tar'), ['--owner=0', '--group=0', '--numeric-owner', '-cf', '-', 'tree'], { cwd: root });
    expect(native.stdout.length).toBeGreaterThan(10240);
  }, SLOW);

  it('python3 -c with json, hashlib and zlib', () => {
    const py = need('/usr/bin/python3', 'Debian\'s python3 package');
    const script = [
      'import json, hashlib, zlib, sys',
      'd = {"k%d" % i: [i, i * i, str(i), {"half": i / 2}] for i in range(60)}',
      's = json.dumps(d, sort_keys=True, indent=1)',
      'print(hashlib.sha256(s.encode()).hexdigest(), hashlib.md5(b"usmjit").hexdigest(), hashlib.sha1(b"x" * 1000).hexdigest())',
      'c = zlib.compress(s.encode(), 9)',
      'print(len(s), len(c), zlib.crc32(c), zlib.adler32(s.encode()), zlib.decompress(c) == s.encode())',
      'print(json.loads(s)["k7"], json.dumps([1.5, None, True, "\\u00e9"]))',
      'sys.stderr.write("done\\n")',
    ].join('\n');
    both('python3 -c', py, ['-c', script]);
  }, SLOW);

  it('perl -e with hashes and sort', () => {
    const perl = need('/usr/bin/perl', 'perl');
    const script = `my %h; $h{$_ % 7}{$_}++ for 1..300;
for my $k (sort { $a <=> $b } keys %h) { printf "%d: %s\\n", $k, join(",", (sort { $b <=> $a } keys %{$h{$k}})[0..4]) }
my @w = sort { lc($a) cmp lc($b) or $a cmp $b } qw(pear Apple banana apple Cherry cherry fig);
print "@w\\n"; my %c; $c{length $_}++ for @w;
print join(" ", map { "$_=$c{$_}" } sort { $a <=> $b } keys %c), "\\n";
my %inv = reverse %c; print scalar(keys %inv), " ", join("|", map { sprintf "%.3f", sqrt $_ } 1..5), "\\n"; exit 7;`;
    both('perl -e', perl, ['-e', script]);
  }, SLOW);
});

describe('C programs built dynamically: native vs usmjit', () => {
  it('libm and stdio through ld.so', () => {
    const bin = compileC(join(DIR, 'libm_stdio.c'), { cacheSubdir: 'dynamic', link: 'dynamic' });
    const native = both('libm_stdio', bin, ['x']);
    expect(exitStatus(native)).toBe(3);
  }, SLOW);

  it('the auxiliary vector and the vDSO, seen from a dynamic and a static program', () => {
    for (const link of ['dynamic', 'static'] as const) {
      const bin = compileC(join(DIR, 'auxv_vdso.c'), { cacheSubdir: 'dynamic', link });
      const native = both(`auxv_vdso (${link})`, bin, []);
      expect(native.stdout).toContain('AT_SYSINFO_EHDR present: 1');
      expect(native.stdout).not.toMatch(/: 0\n/);
    }
  }, SLOW);

  it('-E LD_PRELOAD=<a library overriding rand()> as native LD_PRELOAD=', () => {
    const lib = compileC(join(DIR, 'preload.c'), { cacheSubdir: 'dynamic', link: 'shared' });
    const bin = compileC(join(DIR, 'preload_main.c'), { cacheSubdir: 'dynamic', link: 'dynamic' });
    const plain = both('without the preload', bin, []);
    const native = both('with LD_PRELOAD', bin, [], { cliArgs: ['-E', `LD_PRELOAD=${lib}`], nativeEnv: { LD_PRELOAD: lib } });
    expect(native.stdout).toBe('rand 42\n'.repeat(4));
    expect(plain.stdout).not.toContain('rand 42\n');
  }, SLOW);

  it('a library found through -E LD_LIBRARY_PATH, or installed under -L PREFIX', () => {
    const built = compileC(join(DIR, 'libdemo.c'), { cacheSubdir: 'dynamic', link: 'shared', cflags: ['-Wl,-soname,libdemo.so'] });
    const libdir = join(tmp, 'libs');
    mkdirSync(libdir, { recursive: true });
    copyFileSync(built, join(libdir, 'libdemo.so'));
    const bin = compileC(join(DIR, 'uses_demo.c'), { cacheSubdir: 'dynamic', link: 'dynamic', ldflags: [built] });
    // Not found at all (ld.so's error and status 127), natively and under usmjit.
    const missing = both('without the library', bin, []);
    expect(exitStatus(missing)).toBe(127);
    const native = both('with LD_LIBRARY_PATH', bin, [], { cliArgs: ['-E', `LD_LIBRARY_PATH=${libdir}`], nativeEnv: { LD_LIBRARY_PATH: libdir } });
    expect(native.stdout).toBe('hello from libdemo 5\n');
    // -L PREFIX: ld.so's search of /usr/lib/x86_64-linux-gnu finds PREFIX/usr/lib/x86_64-linux-gnu/libdemo.so,
    // as it would find the library installed there (natively: LD_LIBRARY_PATH to the same file).
    const prefix = join(tmp, 'sysroot');
    mkdirSync(join(prefix, 'usr', 'lib', 'x86_64-linux-gnu'), { recursive: true });
    copyFileSync(built, join(prefix, 'usr', 'lib', 'x86_64-linux-gnu', 'libdemo.so'));
    const emu = runUsmjit(bin, { env: ENV, cliArgs: ['-L', prefix], timeoutMs: SLOW });
    same('under -L PREFIX', native, emu);
  }, SLOW);
});
