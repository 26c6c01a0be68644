import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/vmx/machine.js';
import { GuestExit } from '../../src/core/exits.js';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../src/paging/address-space.js';

/**
 * Random bytes as code: every case must end as a guest signal, a guest exit or the exit limit
 * (an endless loop) — never a host exception, a hang, or unbounded host memory. Seeded and
 * reproducible; FUZZ_CASES / FUZZ_SEED run longer campaigns (`npm run fuzz`).
 */
const CASES = Number(process.env.FUZZ_CASES ?? 1500);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s;
  };
}

describe('decoder and translator robustness', () => {
  it(`${CASES} random byte strings end in a signal, an exit or the limit (seed ${SEED})`, async () => {
    const m = await Machine.create();
    const CODE = 0x10000, DATA = 0x20000, STACK = 0x7ff000000000;
    m.as.map(CODE, 0x2000, PROT_READ | PROT_WRITE | PROT_EXEC, 'code');
    // The second code page is left unmapped half the time, so instructions run off the end.
    m.as.map(DATA, 0x10000, PROT_READ | PROT_WRITE, 'data');
    m.as.map(STACK - 0x10000, 0x10000, PROT_READ | PROT_WRITE, '[stack]');
    let syscalls = 0;
    m.syscalls = {
      syscall: (cpu) => {
        syscalls++;
        if (cpu.get(0) === 60n || cpu.get(0) === 231n) throw new GuestExit(Number(cpu.get(7) & 0xffn));
        return -38n; // everything else: ENOSYS
      },
    };
    m.budgetPerEntry = 4096;
    const next = rng(SEED);
    const outcomes = new Map<string, number>();
    const stderrWrite = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true) as typeof process.stderr.write; // the kill reports
    try {
      for (let k = 0; k < CASES; k++) {
        const len = 1 + (next() % 48);
        const code = new Uint8Array(len);
        for (let j = 0; j < len; j++) code[j] = next() & 0xff;
        // Place the bytes near the end of the first page half the time (page-crossing instructions).
        const at = next() % 2 ? CODE + 0x1000 - (1 + (next() % 15)) : CODE + (next() % 64);
        const secondPage = next() % 2 === 0;
        if (secondPage) m.as.map(CODE + 0x1000, 0x1000, PROT_READ | PROT_EXEC, 'code2');
        else m.as.unmap(CODE + 0x1000, 0x1000);
        m.as.write(at, secondPage ? code : code.subarray(0, Math.min(len, CODE + 0x1000 - at)), true);
        for (let r = 0; r < 16; r++) m.cpu.set(r, BigInt(DATA + (next() % 0x8000)));
        m.cpu.set(4, BigInt(STACK - 0x100));
        m.cpu.rip = BigInt(at);
        m.exitLimit = 200;
        let outcome: string;
        try {
          const status = m.run();
          outcome = status === 137 ? 'limit' : status > 128 ? `signal ${status - 128}` : `exit ${status}`;
        } catch (e) {
          throw new Error(`case ${k} (seed ${SEED}) bytes ${[...code].map((b) => b.toString(16).padStart(2, '0')).join(' ')}: host exception ${(e as Error).stack}`);
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    } finally {
      process.stderr.write = stderrWrite;
    }
    // Host memory stays bounded: the guest can touch at most its few mapped pages.
    expect(m.frames.inUse).toBeLessThan(64);
    expect([...outcomes.keys()].some((o) => o.startsWith('signal'))).toBe(true);
    console.log(`fuzz outcomes (${CASES} cases): ${JSON.stringify(Object.fromEntries(outcomes))}, syscalls ${syscalls}`);
  }, 600_000);
});
