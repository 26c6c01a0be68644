/**
 * The Wasm page walk (src/vmx/usm-fast/walk.ts, reached through the fast path's rd/wr) against
 * the TypeScript walk it was written from (paging/pagewalk.ts through paging/mmu.ts tryAccess):
 * random 4-level page tables (4K, 2M and 1G leaves, random P/RW/US/NX/G/A/D bits, some reserved
 * bits), random CR0.WP, EFER.NXE, CR4.PGE, CPL and access kind; for every access both must give
 * the same host address or the same #PF error code, leave the same A/D bits in the tables and the
 * same TLB rights. The TypeScript walk is itself checked against the CPU by the USM guest tests.
 */
import { describe, expect, it } from 'vitest';
import { CPU, PAGE_SIZE } from '../../src/core/layout.js';
import { buildRuntime } from '../../src/jit/runtime.js';
import { AddressSpace, PROT_READ, PROT_WRITE } from '../../src/paging/address-space.js';
import { FrameAllocator } from '../../src/paging/frames.js';
import { Mmu, PhysFault, TRY_GP } from '../../src/paging/mmu.js';
import { CR0_WP, CR4_PGE, EFER_NXE } from '../../src/paging/pagewalk.js';
import { buildUsmFast } from '../../src/vmx/usm-fast/module.js';
import { CR0_AT_ENTRY, CR4_AT_ENTRY, EFER_AT_ENTRY, UsmState } from '../../src/vmx/usm-state.js';
import { VCpu } from '../../src/vmx/vcpu.js';

/** Guest-physical memory: page tables and 4K/2M data pages here, 1G pages at PHYS_1G. */
const PHYS = 0x1000_0000, PHYS_LEN = 48 << 20;
const PHYS_1G = 0x4000_0000, PHYS_1G_LEN = 4 << 20;

/** xorshift64*: deterministic cases. */
function rng(seed: bigint) {
  let s = seed;
  const next = (): bigint => {
    s ^= s >> 12n; s ^= (s << 25n) & 0xffff_ffff_ffff_ffffn; s ^= s >> 27n;
    return (s * 0x2545f4914f6cdd1dn) & 0xffff_ffff_ffff_ffffn;
  };
  return { next, int: (n: number) => Number(next() % BigInt(n)), chance: (p: number) => Number(next() % 10000n) < p * 10000 };
}

function setup() {
  const frames = new FrameAllocator();
  const as = new AddressSpace(frames);
  const vcpu = new VCpu(frames);
  as.tlbs.push(...vcpu.tlbs);
  as.tlbsVirtual = true;
  as.map(PHYS, PHYS_LEN, PROT_READ | PROT_WRITE);
  as.map(PHYS_1G, PHYS_1G_LEN, PROT_READ | PROT_WRITE);
  const st = new UsmState(vcpu.cpu);
  const mmu = new Mmu(as, st, vcpu.tlbs);
  const runtime = buildRuntime(frames.memory, new WebAssembly.Table({ element: 'anyfunc', initial: 1 }));
  const calls = { js: 0 };
  const fast = buildUsmFast(frames.memory, {
    rd: () => { calls.js++; return 0n; },
    wr: () => { calls.js++; },
    getFlags: runtime.get_flags,
    chain: runtime.chain,
  });
  return { frames, as, vcpu, st, mmu, fast, calls };
}

describe('USM fast path: the Wasm page walk agrees with the TypeScript walk', () => {
  it('on random page tables, controls and accesses', () => {
    const { frames, as, vcpu, st, mmu, fast, calls } = setup();
    const cpu = vcpu.cpu;
    const r = rng(0x9e3779b97f4a7c15n);
    let bump = PHYS;
    const page = () => { const p = bump; bump += PAGE_SIZE; return p; };
    const dv = () => frames.dv;
    const wr64 = (pa: number, v: bigint) => dv().setBigUint64(mmu.hostOf(pa), v, true);
    const tables: number[] = [];
    const table = () => { const t = page(); tables.push(t); return t; };
    const root = table();
    st.reset(BigInt(root));
    // Random entry bits; P mostly set, a few reserved bits.
    const bits = (leaf: boolean): bigint => {
      let v = 0n;
      if (r.chance(0.92)) v |= 1n;
      if (r.chance(0.75)) v |= 2n;
      if (r.chance(0.75)) v |= 4n;
      if (r.chance(0.3)) v |= 0x20n;
      if (leaf && r.chance(0.3)) v |= 0x40n;
      if (leaf && r.chance(0.3)) v |= 0x100n;
      if (r.chance(0.15)) v |= 1n << 63n;
      if (r.chance(0.03)) v |= 1n << 50n; // reserved (above the 47 physical address bits)
      return v;
    };
    const vas: bigint[] = [];
    // Leaves under a few PML4 slots in both halves, sharing upper levels.
    const pml4Slots = [1, 2, 300, 511];
    for (const s4 of pml4Slots) {
      const pdpt = table();
      wr64(root + s4 * 8, BigInt(pdpt) | bits(false) | (r.chance(0.02) ? 0x80n : 0n));
      const base = BigInt(s4) << 39n;
      const canon = s4 >= 256 ? base | 0xffff_0000_0000_0000n : base;
      for (let k = 0; k < 4; k++) {
        const s3 = r.int(512);
        if (r.chance(0.15)) {
          // A 1G page (sometimes with a misaligned, reserved address bit).
          wr64(pdpt + s3 * 8, BigInt(PHYS_1G) | bits(true) | 0x80n | (r.chance(0.1) ? 0x2000n : 0n));
          for (let j = 0; j < 4; j++) vas.push(canon | (BigInt(s3) << 30n) | BigInt(r.int(PHYS_1G_LEN / 8) * 8));
          continue;
        }
        const pd = table();
        wr64(pdpt + s3 * 8, BigInt(pd) | bits(false));
        for (let k2 = 0; k2 < 4; k2++) {
          const s2 = r.int(512);
          if (r.chance(0.2)) {
            // A 2M page: a 2M-aligned stretch of the data region.
            const big = (bump + (2 << 20) - 1) & ~((2 << 20) - 1);
            bump = big + (2 << 20);
            wr64(pd + s2 * 8, BigInt(big) | bits(true) | 0x80n | (r.chance(0.1) ? 0x4000n : 0n));
            for (let j = 0; j < 4; j++) vas.push(canon | (BigInt(s3) << 30n) | (BigInt(s2) << 21n) | BigInt(r.int((2 << 20) / 8) * 8));
            continue;
          }
          const pt = table();
          wr64(pd + s2 * 8, BigInt(pt) | bits(false));
          for (let k1 = 0; k1 < 6; k1++) {
            const s1 = r.int(512);
            const data = page();
            wr64(pt + s1 * 8, BigInt(data) | bits(true));
            wr64(data, r.next());
            vas.push(canon | (BigInt(s3) << 30n) | (BigInt(s2) << 21n) | (BigInt(s1) << 12n) | BigInt(r.int(PAGE_SIZE / 8) * 8));
          }
        }
      }
    }
    expect(bump).toBeLessThan(PHYS + PHYS_LEN);
    // (Host addresses taken once: going through mmu.hostOf would refill the frame cache.)
    const hosts = tables.map((t) => mmu.hostOf(t));
    const snapshot = () => hosts.map((h) => frames.u8.slice(h, h + PAGE_SIZE));
    const restore = (s: Uint8Array[]) => hosts.forEach((h, k) => frames.u8.set(s[k], h));
    const flush = () => { for (const t of vcpu.tlbs) t.flushAll(); };
    let faults = 0, hits = 0, gaveUp = 0, physFaults = 0;
    for (let n = 0; n < 4000; n++) {
      // Controls.
      st.cr0 = r.chance(0.7) ? CR0_AT_ENTRY : CR0_AT_ENTRY & ~CR0_WP;
      st.efer = r.chance(0.7) ? EFER_AT_ENTRY : EFER_AT_ENTRY & ~EFER_NXE;
      st.cr4 = r.chance(0.7) ? CR4_AT_ENTRY : CR4_AT_ENTRY & ~CR4_PGE;
      const user = r.chance(0.4), write = r.chance(0.5);
      let va = vas[r.int(vas.length)];
      if (r.chance(0.05)) va ^= 1n << BigInt(30 + r.int(9)); // somewhere else under the same tables
      st.cpl = user ? 3 : 0;
      const before = snapshot();
      // TypeScript first (it also fills the frame cache the Wasm walk reads).
      flush();
      let js: number;
      try {
        js = mmu.tryAccess(BigInt.asUintN(64, va), write);
      } catch (e) {
        // A leaf outside guest-physical memory: the session would end (PhysFault); the Wasm walk
        // must leave that to TypeScript.
        if (!(e instanceof PhysFault)) throw e;
        restore(before);
        flush();
        const c = calls.js;
        cpu.setU32(CPU.fault, 0);
        if (write) fast.wr(cpu.base, va, 8, 0n, 0n); else fast.rd(cpu.base, va, 8, 0n);
        expect(calls.js, 'a PhysFault case went to TypeScript').toBe(c + 1);
        physFaults++;
        continue;
      }
      expect(js).not.toBe(TRY_GP);
      const jsTables = snapshot();
      const jsRights = [vcpu.tlbs[user ? 1 : 0].probe(va, false), vcpu.tlbs[user ? 1 : 0].probe(va, true)];
      restore(before);
      flush();
      cpu.setU32(CPU.usmFast, 1);
      cpu.setU32(CPU.fault, 0);
      const jsBefore = calls.js;
      const what = `case ${n}: va=${BigInt.asUintN(64, va).toString(16)} user=${user} write=${write} cr0=${st.cr0.toString(16)} efer=${st.efer.toString(16)} cr4=${st.cr4.toString(16)}`;
      const V = 0x0123_4567_89ab_cdefn ^ BigInt(n);
      const old = js >= 0 ? dv().getBigUint64(js, true) : 0n;
      const got = write ? (fast.wr(cpu.base, va, 8, V, 0x1234n), 0n) : fast.rd(cpu.base, va, 8, 0x1234n);
      if (calls.js !== jsBefore) {
        // It gave up (two pages sharing a frame-cache slot): the TypeScript path does the access.
        gaveUp++;
        restore(before);
        continue;
      }
      if (js >= 0) {
        hits++;
        expect(cpu.u32(CPU.fault), `${what}: faulted in Wasm only`).toBe(0);
        if (write) {
          expect(dv().getBigUint64(js, true), `${what}: stored elsewhere`).toBe(V);
          dv().setBigUint64(js, old, true);
        } else {
          expect(got, `${what}: loaded from elsewhere`).toBe(old);
        }
        const bank = vcpu.tlbs[user ? 1 : 0];
        expect([bank.probe(va, false), bank.probe(va, true)], `${what}: TLB rights`).toEqual(jsRights);
      } else {
        faults++;
        expect(cpu.u32(CPU.fault), `${what}: no #PF in Wasm`).toBe(1);
        expect(cpu.u64(CPU.exitArg), what).toBe(14n | (BigInt(~js) << 8n));
        expect(cpu.u64(CPU.faultAddr), what).toBe(BigInt.asUintN(64, va));
        expect(cpu.u64(CPU.exitInsn), what).toBe(0x1234n);
      }
      const wasmTables = snapshot();
      for (let k = 0; k < tables.length; k++) {
        if (Buffer.compare(wasmTables[k], jsTables[k]) !== 0) expect.fail(`${what}: A/D bits differ in table ${tables[k].toString(16)}`);
      }
    }
    // Both outcomes are exercised in numbers.
    expect(hits).toBeGreaterThan(500);
    expect(gaveUp, `the Wasm walk gave up ${gaveUp} times`).toBeLessThan(200);
    expect(physFaults).toBeLessThan(400);
    expect(faults).toBeGreaterThan(500);
  });
});
