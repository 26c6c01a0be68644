/**
 * Robustness: every implemented call, fed hostile arguments, returns a value (or ends the process
 * with GuestExit/GuestKilled) and never throws anything else or logs an internal error.
 *
 * Safety: guest paths can only name things inside a temp directory (the guest's cwd; no '/' or
 * '.' bytes exist in guest memory), calls that could signal other processes, sleep for long or
 * grow files without bound are left out, and the host's stdio is closed in the guest first.
 */
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SYSCALLS } from '../../src/linux-abi/syscalls/index.js';
import { GuestExit, GuestKilled } from '../../src/core/exits.js';
import { BUF, BUF_LEN, harness } from './harness.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'usmjit-fuzz-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SKIP = new Set([
  'kill', 'tkill', 'tgkill', // could reach other processes
  'nanosleep', 'clock_nanosleep', 'futex', 'poll', 'ppoll', 'select', 'pselect6', // could sleep for long
  'pause', 'rt_sigsuspend', 'rt_sigtimedwait', // wait for a signal: forever when none can come
  'lseek', 'pwrite64', 'pwritev', 'truncate', 'ftruncate', 'fallocate', 'copy_file_range', // could make huge files
]);

/** A small deterministic PRNG (xorshift), so failures reproduce. */
function rng(seed: number) {
  let s = BigInt(seed) | 1n;
  return () => {
    s ^= (s << 13n) & 0xffff_ffff_ffff_ffffn;
    s ^= s >> 7n;
    s ^= (s << 17n) & 0xffff_ffff_ffff_ffffn;
    return s;
  };
}

describe('hostile arguments', () => {
  it('never escape as exceptions', () => {
    const h = harness({ exePath: join(dir, 'exe') });
    writeFileSync(join(dir, 'f'), 'some file content\n');
    const next = rng(Number(process.env.USMJIT_FUZZ_SEED ?? 12345));
    const oldUmask = process.umask();
    // Guest memory: random bytes without '/' and '.', so paths stay in the temp dir.
    const fill = () => {
      const b = new Uint8Array(0x4000);
      for (let i = 0; i < b.length; i++) {
        const v = Number(next() & 0xffn);
        b[i] = v === 0x2f || v === 0x2e ? 0x61 : v;
      }
      h.as.map(BUF, BUF_LEN, 3); // the calls may have unmapped or protected it
      h.as.write(BUF, b);
    };
    h.str(BUF, dir);
    expect(h.sys('chdir', BUF)).toBe(0n);
    for (const fd of [0, 1, 2]) h.sys('close', fd);
    h.str(BUF, 'f');
    h.sys('open', BUF, 2);
    h.sys('pipe', BUF + 0x100);
    const values = (): bigint => {
      switch (Number(next() % 9n)) {
        case 0: return next() % 8n;
        case 1: return BigInt(BUF) + (next() % 0x4000n);
        case 2: return BigInt(BUF) + (next() % 0x4000n) * 16n;
        case 3: return -1n;
        case 4: return -100n;
        case 5: return next();
        case 6: return (next() % 0x8000_0000_0000n) & ~0xfffn;
        case 7: return BigInt(BUF + BUF_LEN - 4);
        default: return next() % 0x10000n;
      }
    };
    const names = Object.entries(SYSCALLS).filter(([, d]) => !SKIP.has(d.name));
    let calls = 0;
    for (let round = 0; round < 60; round++) {
      fill();
      for (const [nr, def] of names) {
        const args = Array.from({ length: 6 }, values);
        if (def.name === 'mmap') args[3] |= 0x20n; // anonymous only: no huge file copies
        if (def.name === 'umask') args[0] = 0o022n;
        if (def.name === 'write' || def.name === 'sendfile') args[2] %= 0x10000n; // no gigabyte files
        try {
          const r = h.sys(Number(nr), ...args);
          expect(typeof r).toBe('bigint');
        } catch (e) {
          if (!(e instanceof GuestExit) && !(e instanceof GuestKilled)) {
            throw new Error(`${def.name}(${args.map((a) => '0x' + BigInt.asUintN(64, a).toString(16)).join(', ')}) threw ${String(e)}`);
          }
        }
        calls++;
      }
    }
    process.umask(oldUmask);
    expect(calls).toBeGreaterThan(1000);
    const internal = h.log.filter((l) => l.includes('internal error'));
    expect(internal).toEqual([]);
  });
});
