/**
 * USM mode end to end: libusm (make -C libusm) and the guest tests of test/usm/*.c, each built
 * with `gcc -O2 -static -Iinclude <test>.c libusm/libusm.a` and run under usmjit. Each test checks
 * its own results against the SDM's rules and docs/usm-abi.md (CHECK: one "ok: what" line per
 * check) and exits 0 when all pass; its stdout must equal test/usm/<name>.out byte for byte (the
 * outputs are deterministic: no addresses, timings or pool sizes), and an .out file holds nothing
 * but those verdicts, so it cannot lock in whatever usmjit happened to print.
 *
 * Directives in a test (test/helpers/guest.ts): `// EXIT:` (expected status, default 0) and
 * `// XFAIL: reason` for a test of an emulator feature that is not there yet: it must fail until
 * the feature lands, then the marker goes.
 *
 * Also: natively (no /dev/usm) a test says it cannot enter USM mode, and usmbench at a tiny scale
 * prints a line for every benchmark with the same correctness lines as linbench where the check
 * is the same.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { assert, beforeAll, describe, expect, it } from 'vitest';
import { compareChecks, parseOutput, supported, TESTS, USM_DIR } from '../../bench/usm/run.js';
import {
  CACHE_DIR,
  CLI_PATH,
  compileC,
  describeRun,
  exitStatus,
  firstDifference,
  GUEST_ENV,
  parseGuest,
  ROOT,
  runNative,
  runUsmjit,
  type GuestSpec,
} from '../helpers/guest.js';

const TEST_DIR = join(ROOT, 'test', 'usm');
const LIBUSM_DIR = join(ROOT, 'libusm');
const LIBUSM = join(LIBUSM_DIR, 'libusm.a');
const INCLUDE = join(ROOT, 'include');
const TIMEOUT_MS = 120_000;

const specs: GuestSpec[] = readdirSync(TEST_DIR)
  .filter((f) => f.endsWith('.c'))
  .sort()
  .map((f) => parseGuest(join(TEST_DIR, f)));

function buildLibusm(): void {
  const r = spawnSync('make', ['-C', LIBUSM_DIR], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`make -C libusm failed:\n${r.error?.message ?? ''}${r.stdout}${r.stderr}`);
}

/** gcc identity, the test, usmtest.h, the public headers and libusm.a: the cache key. */
function compileUsm(file: string): string {
  const name = basename(file, '.c');
  const h = createHash('sha256');
  h.update(spawnSync('gcc', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]);
  for (const f of [file, join(TEST_DIR, 'usmtest.h'), join(INCLUDE, 'usm', 'usm.h'), join(INCLUDE, 'usm', 'usm_abi.h'), LIBUSM]) {
    h.update('\0' + f + '\0').update(readFileSync(f));
  }
  const dir = join(CACHE_DIR, 'usm');
  const out = join(dir, `${name}-${h.digest('hex').slice(0, 16)}`);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  const args = ['-O2', '-static', '-Wall', '-I', INCLUDE, '-o', tmp, file, LIBUSM];
  const r = spawnSync('gcc', args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`gcc ${args.join(' ')} failed:\n${r.error?.message ?? ''}${r.stderr}`);
  }
  renameSync(tmp, out);
  return out;
}

function check(spec: GuestSpec, env: Record<string, string> = {}): void {
  const bin = compileUsm(spec.file);
  const r = runUsmjit(bin, { env: { ...GUEST_ENV, ...env }, timeoutMs: TIMEOUT_MS });
  const what = `${spec.name} under usmjit: ${describeRun(r)}`;
  expect(r.timedOut, what).toBe(false);
  const expected = readFileSync(join(TEST_DIR, `${spec.name}.out`), 'latin1');
  const diff = firstDifference(expected, r.stdout);
  if (diff !== null) assert.fail(`stdout of ${spec.name} differs from ${spec.name}.out (${describeRun(r)})\n${diff}`);
  expect(exitStatus(r), what).toBe(spec.exit);
}

describe('USM mode: libusm guest tests', () => {
  beforeAll(() => {
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`);
    buildLibusm();
  });

  it('has a test and an expected output for each capability', () => {
    expect(specs.length).toBeGreaterThanOrEqual(15);
    for (const s of specs) expect(existsSync(join(TEST_DIR, `${s.name}.out`)), `${s.name}.out`).toBe(true);
  });

  it('expects only self-checked lines (ok: ... from CHECK, then PASSED)', () => {
    for (const spec of specs) {
      const lines = readFileSync(join(TEST_DIR, `${spec.name}.out`), 'utf8').split('\n');
      expect(lines.pop(), `${spec.name}.out ends with a newline`).toBe('');
      const plain = lines.filter((l, k) => !(l.startsWith('ok: ') || (l === 'PASSED' && k === lines.length - 1)));
      expect(plain, `${spec.name}.out: lines that are not a check's verdict`).toEqual([]);
    }
  });

  it('natively (no /dev/usm) usm_init fails with ENOENT', () => {
    const r = runNative(compileUsm(join(TEST_DIR, 'enter.c')));
    expect(r.stdout).toBe('ok: Linux mode: CPL3 before usm_enter\ncannot enter USM mode: No such file or directory\n');
    expect(exitStatus(r)).toBe(2);
  });

  for (const spec of specs) {
    const title = spec.xfail ? `${spec.name} (XFAIL: ${spec.xfail})` : spec.name;
    if (spec.xfail) it.fails(title, () => check(spec));
    else it(title, () => check(spec));
  }
});

/**
 * The same guests with the Wasm fast paths off (vmx/usm-fast): every page walk, exception
 * delivery, iretq, syscall and invlpg in TypeScript, which stays for the unusual cases and is the
 * reference the fast paths were written from. Both must give what native execution checks.
 */
describe('USM mode: TypeScript paths only (USMJIT_USM_FAST=0)', () => {
  const chosen = ['ring3_pf', 'stale_tlb', 'pcid', 'ad_bits', 'bigpage', 'global_page', 'demand_paging', 'trap_state', 'ring3_syscalls'];
  it('covers guests that exist', () => {
    for (const n of chosen) expect(specs.some((s) => s.name === n), n).toBe(true);
  });
  for (const spec of specs.filter((s) => chosen.includes(s.name) && !s.xfail)) it(spec.name, () => check(spec, { USMJIT_USM_FAST: '0' }));
});

describe('usmbench', () => {
  const SCALE = '0.02';
  let usmbench: string;
  let linbench: string;
  beforeAll(() => {
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first (npm test does)`);
    const r = spawnSync('make', ['-C', USM_DIR, 'usmbench'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`make -C bench/usm usmbench failed:\n${r.stdout}${r.stderr}`);
    usmbench = join(USM_DIR, 'usmbench');
    linbench = compileC(join(USM_DIR, 'linbench.c'), { cacheSubdir: 'usm', cflags: [] });
  });

  it('prints a line per test, and the correctness lines linbench prints for the same checks', () => {
    const u = runUsmjit(usmbench, { args: [SCALE], timeoutMs: 300_000 });
    expect(exitStatus(u), describeRun(u)).toBe(0);
    const n = runNative(linbench, { args: ['-t', 'syscall,kernel_fault,user_fault,appel1,appel2,trap,dirty_scan', SCALE] });
    expect(exitStatus(n), describeRun(n)).toBe(0);
    const up = parseOutput(u.stdout), np = parseOutput(n.stdout);
    for (const name of TESTS) expect(up.results.has(name), `usmbench: no line for ${name}\n${u.stdout}`).toBe(true);
    const same = ['syscall', 'kernel_fault', 'user_fault', 'appel1', 'appel2', 'trap', 'dirty_scan'];
    for (const name of [...same, 'interpose']) {
      expect(supported(up.results.get(name)), `usmbench: ${name}: ${JSON.stringify(up.results.get(name))}`).toBe(true);
    }
    expect(compareChecks(np, up, same)).toEqual([]);
    expect(up.checks.get('interpose')?.[0]).toMatch(/emulated by the supervisor=(\d+) of \1, other results=0, other calls=0$/);
  });
});
