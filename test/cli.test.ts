import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Script } from 'node:vm';
import { join } from 'node:path';
import { BUSYBOX, CLI_PATH, compileC, describeRun, exitStatus, GUEST_DIR, GUEST_ENV, ROOT, runNative, runUsmjit } from './helpers/guest.js';

/** The command line behaves like qemu-user's: options, environment, exit statuses, errors, tracing. */
/** What `npm run build` compiles from native/fast-exit.c (src/fast-exit.ts finds it there). */
const FAST_EXIT_LIBRARY = join(ROOT, 'dist', 'fast-exit.so');
/** What it compiles from native/worker-priority.c (src/worker-priority.ts). */
const WORKER_PRIORITY_LIBRARY = join(ROOT, 'dist', 'worker-priority.so');
/** What it compiles from native/code-placement.c (the usmjit command preloads it into Node). */
const CODE_PLACEMENT_LIBRARY = join(ROOT, 'dist', 'code-placement.so');

/** The nice value of each thread of process `pid`, the main thread's first. */
function threadNices(pid: number): number[] {
  const tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => (a === pid ? -1 : b === pid ? 1 : a - b));
  // Fields after the ')' that ends the command name: state is field 3, nice field 19.
  return tids.map((t) => Number(readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1].split(' ')[19 - 3]));
}

/** Runs usmjit on a guest that says 'ready' and then waits: the nice values of its threads then. */
async function nicesWhileRunning(env: Record<string, string>): Promise<number[]> {
  const child = spawn(CLI_PATH, [BUSYBOX, 'sh', '-c', 'echo ready; read x'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready')) resolve(); });
      child.on('exit', (code) => reject(new Error(`usmjit ended (${code}) before the guest was ready`)));
    });
    return threadNices(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

describe('usmjit command line', () => {
  const argvEnv = compileC(join(GUEST_DIR, 'argv_env.c'));

  it('prints its version', () => {
    const r = runUsmjit(argvEnv, { cliArgs: ['--version'] });
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(r.stdout.trim()).toBe(pkg.version);
    expect(exitStatus(r)).toBe(0);
  });

  it('-E and -U change only the guest environment, like env(1) natively', () => {
    const base = { PATH: '/usr/bin:/bin', HOME: '/tmp', LANG: 'C', DROPME: 'x' };
    const native = runNative('/usr/bin/env', { args: ['-u', 'DROPME', 'ADDED=1', argvEnv, 'a b', 'c'], env: base });
    const emu = runUsmjit(argvEnv, { args: ['a b', 'c'], env: base, cliArgs: ['-U', 'DROPME', '-E', 'ADDED=1'] });
    expect(emu.stdout).toBe(native.stdout);
    expect(exitStatus(emu)).toBe(exitStatus(native));
  });

  it("the guest gets the caller's environment in its order, whatever Node is given (native/launcher.c)", () => {
    // The usmjit command keeps NODE_EXTRA_CA_CERTS, GLIBC_TUNABLES and LD_PRELOAD from Node under
    // other names and gives Node a GLIBC_TUNABLES and an LD_PRELOAD of its own; the guest must not
    // notice: /usr/bin/env prints environ as it is, unsorted (and, dynamically linked, has the
    // caller's LD_PRELOAD loaded into it, natively and under usmjit).
    const env = {
      B_FIRST: '1', PATH: '/usr/bin:/bin', NODE_EXTRA_CA_CERTS: '/nonexistent/certs.pem', HOME: '/tmp',
      GLIBC_TUNABLES: 'glibc.malloc.perturb=0', LD_PRELOAD: '/lib/x86_64-linux-gnu/libm.so.6', A_LAST: '2',
    };
    const native = runNative('/usr/bin/env', { env });
    const emu = runUsmjit('/usr/bin/env', { env });
    expect(native.stdout).toContain('NODE_EXTRA_CA_CERTS=/nonexistent/certs.pem\nHOME=/tmp\nGLIBC_TUNABLES=glibc.malloc.perturb=0\nLD_PRELOAD=/lib/x86_64-linux-gnu/libm.so.6\n');
    expect(emu.stdout).toBe(native.stdout);
    expect(exitStatus(emu)).toBe(0);
    // Without them in the caller's environment, the guest has none either.
    const bare = { PATH: '/usr/bin:/bin', HOME: '/tmp' };
    expect(runUsmjit('/usr/bin/env', { env: bare }).stdout).toBe(runNative('/usr/bin/env', { env: bare }).stdout);
    // -U removes one, as env -u does natively.
    const unset = runUsmjit('/usr/bin/env', { env, cliArgs: ['-U', 'GLIBC_TUNABLES'] });
    expect(unset.stdout).toBe(runNative('/usr/bin/env', { env, args: ['-u', 'GLIBC_TUNABLES'] }).stdout);
  });

  it('a missing program exits 127 and a non-ELF file 126, each with one line', () => {
    const missing = runUsmjit('/nonexistent/prog');
    expect(exitStatus(missing)).toBe(127);
    expect(missing.stderr).toMatch(/^usmjit: \/nonexistent\/prog: No such file or directory\n$/);
    const dir = mkdtempSync(join(tmpdir(), 'usmjit-cli-'));
    const script = join(dir, 'script.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o755);
    const notElf = runUsmjit(script);
    expect(exitStatus(notElf)).toBe(126);
    expect(notElf.stderr.trim().split('\n')).toHaveLength(1);
    expect(notElf.stderr).toContain('not an ELF file');
  });

  it('an instruction it cannot translate: SIGILL there, and one line naming it (its text decoded again)', () => {
    const bin = compileC(join(ROOT, 'test', 'cli', 'untranslated.c'));
    for (const cliArgs of [['--no-cache'], []]) {
      const r = runUsmjit(bin, { cliArgs });
      expect(exitStatus(r), describeRun(r)).toBe(128 + 4);
      expect(r.stderr).toMatch(/^usmjit: guest killed by SIGILL \(Illegal instruction\) at rip=0x[0-9a-f]+ \(vaddps ymm2, ymm1, ymm0: no translation for 'vaddps'; bytes c5 f4 58 d0 [0-9a-f ]+\)\n$/);
    }
  });

  it('--strace logs decoded system calls, and unknown ones return -ENOSYS', () => {
    const bin = compileC(join(ROOT, 'test', 'cli', 'enosys.c'));
    const native = runNative(bin);
    const r = runUsmjit(bin, { cliArgs: ['--strace'] });
    expect(r.stdout).toBe(native.stdout);
    expect(r.stdout).toBe('syscall 999 = -38\n');
    expect(r.stderr).toMatch(/= -1 ENOSYS \(Function not implemented\)/);
    expect(r.stderr).toMatch(/write\(1, "syscall 999 = -38\\n", 18\) = 18/);
    expect(r.stderr).toMatch(/exit_group\(0\) += \?/);
  });

  it('ends through native/fast-exit.c without losing output, the status or the translation cache', () => {
    // The library is part of the build, and loading it ends the process with the status given.
    expect(existsSync(FAST_EXIT_LIBRARY), `${FAST_EXIT_LIBRARY} (npm run build compiles it)`).toBe(true);
    const direct = runNative(process.execPath, {
      args: ['-e', `process.env.USMJIT_FAST_EXIT_STATUS = '7'; process.dlopen({ exports: {} }, ${JSON.stringify(FAST_EXIT_LIBRARY)}); process.exit(1)`],
    });
    expect(exitStatus(direct), describeRun(direct)).toBe(7);
    // A guest that writes 2 MB into a pipe and exits 3: everything arrives, then the status; the
    // translation cache it compiled is on disk.
    const cache = mkdtempSync(join(tmpdir(), 'usmjit-exit-'));
    const env = { ...GUEST_ENV, XDG_CACHE_HOME: cache };
    const args = ['sh', '-c', 'seq 1 300000; exit 3'];
    const native = runNative(BUSYBOX, { args, env });
    const emu = runUsmjit(BUSYBOX, { args, env });
    expect(exitStatus(emu), describeRun(emu)).toBe(3);
    expect(exitStatus(native)).toBe(3);
    expect(emu.stdout.length).toBe(native.stdout.length);
    expect(emu.stdout === native.stdout).toBe(true);
    expect(readdirSync(join(cache, 'usmjit')).some((f) => f.endsWith('.jit'))).toBe(true);
  });

  it("packs V8's code spaces together (native/code-placement.c), which V8 alone scatters", () => {
    // V8 reserves each WebAssembly module's code at a random address and a cold run compiles
    // hundreds of modules; --stats counts the executable anonymous mappings at exit and the GiB
    // of address space they lie in. Started by the usmjit command they lie together; started as
    // plain Node (no preload) each lies alone.
    expect(existsSync(CODE_PLACEMENT_LIBRARY), `${CODE_PLACEMENT_LIBRARY} (npm run build compiles it)`).toBe(true);
    const args = ['sh', '-c', 'i=0; while [ $i -lt 50 ]; do i=$((i+1)); done; echo $i'];
    const native = runNative(BUSYBOX, { args });
    const stats = (r: ReturnType<typeof runNative>) => {
      const m = /code_mappings=(\d+) code_gib=(\d+)/.exec(r.stderr);
      if (!m) throw new Error(`no --stats line: ${describeRun(r)}`);
      return { mappings: Number(m[1]), gib: Number(m[2]) };
    };
    const packed = runUsmjit(BUSYBOX, { args, cliArgs: ['--no-cache', '--stats'] });
    expect(packed.stdout, describeRun(packed)).toBe(native.stdout);
    const p = stats(packed);
    expect(p.mappings).toBeGreaterThan(100);
    expect(p.gib).toBeLessThanOrEqual(8);
    const plain = runNative(process.execPath, { args: [join(ROOT, 'dist', 'src', 'usmjit.mjs'), '--no-cache', '--stats', BUSYBOX, ...args] });
    expect(plain.stdout, describeRun(plain)).toBe(native.stdout);
    const q = stats(plain);
    expect(q.mappings).toBeGreaterThan(100);
    expect(q.gib).toBeGreaterThan(q.mappings / 2);
  });

  it('runs the guest at full priority and V8\'s compile threads niced (native/worker-priority.c)', async () => {
    expect(existsSync(WORKER_PRIORITY_LIBRARY), `${WORKER_PRIORITY_LIBRARY} (npm run build compiles it)`).toBe(true);
    const [main, ...others] = await nicesWhileRunning({ ...GUEST_ENV });
    expect(main).toBe(0);
    expect(others.length).toBeGreaterThanOrEqual(4); // Node's V8 platform workers at least
    expect(others.every((n) => n === 10), `nice values ${others}`).toBe(true);
    // USMJIT_WORKER_NICE=0 leaves them alone.
    const plain = await nicesWhileRunning({ ...GUEST_ENV, USMJIT_WORKER_NICE: '0' });
    expect(plain.every((n) => n === 0), `nice values ${plain}`).toBe(true);
  });

  it('ships a V8 code cache of its JavaScript that V8 accepts (scripts/js-code-cache.mjs)', () => {
    // What scripts/usmjit-launcher.cjs does with it when the cache home has none of its own.
    const bundle = join(ROOT, 'dist', 'src', 'usmjit.cjs');
    const shipped = join(ROOT, 'dist', 'src', 'usmjit.v8');
    expect(existsSync(shipped), `${shipped} (npm run build makes it)`).toBe(true);
    let source = readFileSync(bundle, 'utf8');
    if (source.startsWith('#!')) source = '//' + source.slice(2);
    const script = new Script(`(function (require, module, exports, __filename, __dirname, __usmjit_import_meta_url) {${source}\n})`,
      { filename: bundle, cachedData: readFileSync(shipped) });
    expect(script.cachedDataRejected).toBe(false);
    // A run with an empty cache home behaves as before, served by the shipped cache: it writes
    // the translation cache but no code cache of its own.
    const home = mkdtempSync(join(tmpdir(), 'usmjit-jscache-'));
    const env = { ...GUEST_ENV, XDG_CACHE_HOME: home };
    const native = runNative(argvEnv, { args: ['x'], env });
    const emu = runUsmjit(argvEnv, { args: ['x'], env });
    expect(emu.stdout).toBe(native.stdout);
    const made = readdirSync(join(home, 'usmjit'));
    expect(made.some((f) => f.endsWith('.jit'))).toBe(true);
    expect(made.filter((f) => /^js-.*\.v8$/.test(f))).toEqual([]);
  });

  it('names its build by the hash the build recorded, and hashes an edited bundle itself (scripts/bundle.mjs)', () => {
    const dist = join(ROOT, 'dist', 'src');
    const built = JSON.parse(readFileSync(join(dist, 'usmjit.build.json'), 'utf8')) as { hash: string; size: number; mtimeMs: number };
    let source = readFileSync(join(dist, 'usmjit.cjs'), 'utf8');
    if (source.startsWith('#!')) source = '//' + source.slice(2);
    const sha = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 32);
    expect(built.hash).toBe(sha(source));
    // A copy of the build whose bundle was edited after it (same size, later mtime): the recorded
    // hash no longer applies, and the launcher names the code cache by the edited bundle's hash.
    const copy = mkdtempSync(join(tmpdir(), 'usmjit-edited-'));
    mkdirSync(join(copy, 'dist', 'src'), { recursive: true });
    for (const f of ['usmjit.mjs', 'usmjit-launcher.cjs', 'usmjit.build.json', 'usmjit.v8']) copyFileSync(join(dist, f), join(copy, 'dist', 'src', f));
    for (const f of ['fast-exit.so', 'worker-priority.so']) copyFileSync(join(ROOT, 'dist', f), join(copy, 'dist', f));
    const edited = source.replace('usmjit: internal error: ', 'usmjit: internal ERROR: ');
    expect(edited).not.toBe(source);
    writeFileSync(join(copy, 'dist', 'src', 'usmjit.cjs'), edited);
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    copyFileSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
    const home = mkdtempSync(join(tmpdir(), 'usmjit-jscache-'));
    const r = spawnSync(process.execPath, [join(copy, 'dist', 'src', 'usmjit.mjs'), BUSYBOX, 'true'], { env: { ...GUEST_ENV, XDG_CACHE_HOME: home } });
    expect(r.status, String(r.stderr)).toBe(0);
    expect(readdirSync(join(home, 'usmjit')).filter((f) => f.endsWith('.v8'))).toEqual([`js-${sha(edited)}.v8`]);
  });
});
