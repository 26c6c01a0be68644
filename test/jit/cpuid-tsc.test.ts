/**
 * CPUID and the time-stamp counter, which the differential tester runs with their outputs masked
 * (usmjit's virtual CPU reports its own features by design; time differs) or cannot run at all
 * (rdtscp: this host lacks it, see test/diff/not-generated.ts):
 *  - every leaf a program reads through the cpuid instruction is what src/vmx/cpuid.ts answers;
 *  - the features it advertises (leaf 1 ECX/EDX, 0x80000001 ECX/EDX) are a subset of this host's,
 *    so what glibc selects for them runs natively too, and each is implemented by the ISA table;
 *  - rdtsc/rdtscp count at 1 GHz (docs/usm-abi.md: one tick per host nanosecond), monotonic
 *    across rdtscp, whose TSC_AUX (ecx) is 0.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuid } from '../../src/vmx/cpuid.js';
import { ISA } from '../../src/jit/isa/index.js';
import { compileC, exitStatus, ROOT, runNative, runUsmjit } from '../helpers/guest.js';

const SRC = join(ROOT, 'test', 'jit', 'cpuid_tsc.c');

function parse(out: string): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const l of out.split('\n')) {
    const x = /^cpuid (\w+) (\w+): (\w+) (\w+) (\w+) (\w+)$/.exec(l);
    if (x) m.set(`${x[1]} ${x[2]}`, x.slice(3).map((h) => parseInt(h, 16) >>> 0));
  }
  return m;
}

/** Feature bits -> instructions that need them (leaf 1 ECX and EDX). */
const ECX1: [number, string][] = [[0, 'haddpd'], [9, 'pshufb'], [19, 'dpps'], [20, 'pcmpistri'], [23, 'popcnt']];
const EDX1: [number, string][] = [[0, 'fld'], [4, 'rdtsc'], [8, 'cmpxchg8b'], [15, 'cmovne'], [24, 'fxsave'], [25, 'addps'], [26, 'addpd']];

describe('CPUID and the time-stamp counter under usmjit', () => {
  const bin = compileC(SRC, { cacheSubdir: 'jit' });
  const emu = runUsmjit(bin, { args: ['tsc'] });
  const native = runNative(bin);

  it('runs natively and under usmjit', () => {
    expect(exitStatus(native), native.stderr).toBe(0);
    expect(exitStatus(emu), emu.stderr).toBe(0);
  });

  it('answers every leaf as src/vmx/cpuid.ts says', () => {
    const got = parse(emu.stdout);
    expect(got.size).toBe(16);
    for (const [k, v] of got) {
      const [leaf, sub] = k.split(' ').map((h) => parseInt(h, 16));
      expect(v, `leaf ${k}`).toEqual(cpuid(leaf, sub).map((x) => x >>> 0));
    }
  });

  it('advertises only features this host has, each implemented', () => {
    const e = parse(emu.stdout), n = parse(native.stdout);
    for (const [key, reg] of [['1 0', 2], ['1 0', 3], ['80000001 0', 2], ['80000001 0', 3]] as [string, number][]) {
      const mine = e.get(key)![reg], host = n.get(key)![reg];
      expect((mine & ~host) >>> 0, `leaf ${key} register ${reg}: bits the host lacks`).toBe(0);
    }
    for (const [bit, mn] of ECX1) if ((e.get('1 0')![2] >> bit) & 1) expect(ISA.names.has(mn), `ECX bit ${bit}: ${mn}`).toBe(true);
    for (const [bit, mn] of EDX1) if ((e.get('1 0')![3] >> bit) & 1) expect(ISA.names.has(mn), `EDX bit ${bit}: ${mn}`).toBe(true);
  });

  it('counts time at 1 GHz, monotonic across rdtscp (TSC_AUX 0)', () => {
    const m = /^tsc (\d+) (\d+) aux (\d+)$/m.exec(emu.stdout);
    expect(m, emu.stdout).not.toBeNull();
    const [sleep, after, aux] = m!.slice(1).map(Number);
    expect(sleep, 'ticks across a 50 ms sleep').toBeGreaterThanOrEqual(50e6);
    expect(sleep, 'ticks across a 50 ms sleep (a loaded machine may sleep longer)').toBeLessThan(50e9);
    expect(after, 'rdtsc after rdtscp: no step backwards (a wrapped difference would be huge)').toBeLessThan(1e12);
    expect(aux).toBe(0);
  });
});
