/**
 * The USM page walk in Wasm: what paging/pagewalk.ts + paging/mmu.ts do for a TLB miss, for the
 * common case, without leaving Wasm. It reads the supervisor state from the CPU block
 * (core/layout.ts CPU.cr0 ... CPU.efer), guest-physical pages through the frame cache
 * (paging/phys-cache.ts), sets A/D bits, fills the TLB bank (logging the slot for paging/tlb.ts)
 * and produces the #PF error code. Anything unusual gives up (NEED_JS) before changing anything
 * but A/D bits, and the TypeScript path then does the whole access as before: a frame not cached,
 * a page-table or data page holding translated code, a non-canonical address, a full slot log.
 */
import { PFERR } from '../../core/exception.js';
import {
  CPU, PHYS_CACHE_BASE, PHYS_CACHE_ENTRIES, PHYS_CACHE_ENTRY_SIZE, PHYS_EPOCH, TLB, TLB_BANK_SIZE, TLB_ENTRIES,
  TLB_ENTRY_SHIFT, TLB_LOG_CAP, TLB_LOG_GLOBAL, TLB_LOG_SIZE,
} from '../../core/layout.js';
import { CR0_WP, CR4_PGE, EFER_NXE, PHYS_BITS } from '../../paging/pagewalk.js';
import { Fn, T } from '../../jit/wasm/encoder.js';

/** translate()'s access bits. */
export const ACC = { WRITE: 1, USER: 2 } as const;
/** translate()'s result when TypeScript must do the access; a #PF is PF_BASE - error code. */
export const NEED_JS = -1n;
export const PF_BASE = -2n;

const ADDR_MASK = ((1n << BigInt(PHYS_BITS)) - 1n) & ~0xfffn;

/**
 * translate(cpu, va, acc) -> i64: the host address of `va` for the access, filling the TLB bank of
 * the access (bank 1 for USER), or NEED_JS, or PF_BASE - errorCode.
 */
export function buildTranslate(): Fn {
  const f = new Fn([T.i32, T.i64, T.i32], [T.i64]);
  const cpu = 0, va = 1, acc = 2;
  const e = f.local(T.i32), tag = f.local(T.i64), table = f.local(T.i64), pte = f.local(T.i64);
  const level = f.local(T.i32), rw = f.local(T.i32), us = f.local(T.i32);
  const errBase = f.local(T.i32), nxe = f.local(T.i32), ptNoWrite = f.local(T.i32);
  const leafPte = f.local(T.i64), size = f.local(T.i64), frame = f.local(T.i64);
  const dataHost = f.local(T.i32), dataNoWrite = f.local(T.i32), writable = f.local(T.i32), log = f.local(T.i32);
  const hosts = [0, 1, 2, 3].map(() => f.local(T.i32));
  const ptes = [0, 1, 2, 3].map(() => f.local(T.i64));
  const write = () => f.get(acc).i32(ACC.WRITE).i32_and();
  const user = () => f.get(acc).i32(ACC.USER).i32_and();

  // 1. The TLB: entry of the bank, tag of the access's kind.
  f.get(cpu).i32(CPU.tlb).i32_add();
  user().if_(T.i32).i32(TLB_BANK_SIZE).else_().i32(0).end();
  f.i32_add();
  f.get(va).i64(12).i64_shr_u().i32_wrap_i64().i32(TLB_ENTRIES - 1).i32_and().i32(TLB_ENTRY_SHIFT).i32_shl().i32_add().set(e);
  f.get(va).i64(~0xfffn).i64_and().set(tag);
  f.get(e).i64_load(TLB.writeTag).get(e).i64_load(TLB.readTag);
  write().select().get(tag).i64_eq().if_(); // (select: the first operand when writing)
  f.get(va).get(e).i64_load(TLB.addend).i64_add().i64(0xffff_ffffn).i64_and().return_();
  f.end();
  // 2. Non-canonical: #GP, which TypeScript reports.
  f.get(va).i64(16).i64_shl().i64(16).i64_shr_s().get(va).i64_ne().if_().i64(NEED_JS).return_().end();
  // 3. The walk.
  f.get(cpu).i64_load(CPU.efer).i64(EFER_NXE).i64_and().i64(0).i64_ne().set(nxe);
  write().if_(T.i32).i32(PFERR.W).else_().i32(0).end();
  user().if_(T.i32).i32(PFERR.U).else_().i32(0).end();
  f.i32_or().set(errBase);
  f.get(cpu).i64_load(CPU.cr3).i64(ADDR_MASK).i64_and().set(table);
  f.i32(1).set(rw).i32(1).set(us).i32(0).set(ptNoWrite);
  const physHost = (pa: () => void, out: number, noWrite: number) => {
    // The frame cache entry of pa's page: its page must match and its stamp carry the epoch.
    pa(); f.i64(12).i64_shr_u().i32_wrap_i64().i32(PHYS_CACHE_ENTRIES - 1).i32_and().i32(Math.log2(PHYS_CACHE_ENTRY_SIZE)).i32_shl()
      .i32(PHYS_CACHE_BASE).i32_add().set(out);
    f.get(out).i64_load(0); pa(); f.i64(~0xfffn).i64_and().i64_ne();
    f.get(out).i32_load(12).i32(1).i32_shr_u().i32(0).i32_load(PHYS_EPOCH).i32_ne().i32_or();
    f.if_().i64(NEED_JS).return_().end();
    f.get(out).i32_load(12).i32(1).i32_and().set(noWrite);
    f.get(out).i32_load(8); pa(); f.i32_wrap_i64().i32(0xfff).i32_and().i32_add().set(out);
  };
  const pf = (extra: number) => {
    f.i64(PF_BASE).get(errBase);
    if (extra) f.i32(extra).i32_or();
    f.i64_extend_i32_u().i64_sub().return_();
  };
  const nw = f.local(T.i32);
  f.block(); // $walked
  for (let lv = 0; lv < 4; lv++) {
    const shift = 39 - 9 * lv;
    physHost(() => { f.get(table).get(va).i64(shift).i64_shr_u().i64(511).i64_and().i64(3).i64_shl().i64_or(); }, hosts[lv], nw);
    f.get(ptNoWrite).get(nw).i32_or().set(ptNoWrite);
    f.get(hosts[lv]).i64_load(0).tee(ptes[lv]).set(pte);
    f.get(pte).i64(1).i64_and().i64_eqz().if_(); pf(0); f.end();
    // Reserved bits: address bits 51:PHYS_BITS, NX without EFER.NXE, PS where it cannot be.
    f.get(pte).i64(PHYS_BITS).i64_shr_u().i64(0x1f).i64_and().i64(0).i64_ne();
    f.get(pte).i64(0).i64_lt_s().get(nxe).i32_eqz().i32_and().i32_or();
    const ps = () => f.get(pte).i64(0x80).i64_and().i64(0).i64_ne();
    if (lv === 0) { ps(); f.i32_or(); }
    if (lv === 1) { ps(); f.get(pte).i64(0x3fff_e000).i64_and().i64(0).i64_ne().i32_and().i32_or(); }
    if (lv === 2) { ps(); f.get(pte).i64(0x1f_e000).i64_and().i64(0).i64_ne().i32_and().i32_or(); }
    f.if_(); pf(PFERR.P | PFERR.RSVD); f.end();
    f.get(rw).get(pte).i32_wrap_i64().i32(1).i32_shr_u().i32(1).i32_and().i32_and().set(rw);
    f.get(us).get(pte).i32_wrap_i64().i32(2).i32_shr_u().i32(1).i32_and().i32_and().set(us);
    f.i32(lv).set(level);
    if (lv === 3) break;
    if (lv >= 1) { ps(); f.br_if(0); } // a large page: the leaf
    f.get(pte).i64(ADDR_MASK).i64_and().set(table);
  }
  f.end();
  // (Fetches are never walked here: NX matters only as a reserved bit.)
  // 4. Rights (SDM 4.6): user accesses need U everywhere; writes need RW everywhere unless a
  // supervisor write with CR0.WP clear.
  const wp = () => f.get(cpu).i64_load(CPU.cr0).i64(CR0_WP).i64_and().i64(0).i64_ne();
  user().i32_eqz().get(us).i32_or();
  write().i32_eqz().get(rw).i32_or();
  user().i32_eqz(); wp(); f.i32_eqz().i32_and().i32_or();
  f.i32_and().i32_eqz().if_(); pf(PFERR.P); f.end();
  // 5. The leaf's frame and the data page.
  f.get(level).i32(3).i32_eq().if_(T.i64).i64(4096).else_()
    .get(level).i32(2).i32_eq().if_(T.i64).i64(1 << 21).else_().i64(1 << 30).end().end().set(size);
  f.get(pte).set(leafPte);
  f.get(leafPte).i64(ADDR_MASK).i64_and().i64(0).get(size).i64_sub().i64_and();
  f.get(va).get(size).i64(1).i64_sub().i64_and().i64(~0xfffn).i64_and().i64_or().set(frame);
  physHost(() => { f.get(frame); }, dataHost, dataNoWrite);
  // A write to a page holding translated code, or A/D bits to set in a page table that does:
  // TypeScript (it drops the translations).
  write().get(dataNoWrite).i32_and().if_().i64(NEED_JS).return_().end();
  f.get(ptNoWrite).if_().i64(NEED_JS).return_().end();
  // The slot log must have room (paging/tlb.ts drains it).
  f.get(cpu).i32(CPU.tlbLog).i32_add();
  user().if_(T.i32).i32(TLB_LOG_SIZE).else_().i32(0).end();
  f.i32_add().tee(log).i32_load(0).i32(TLB_LOG_CAP).i32_ge_u().if_().i64(NEED_JS).return_().end();
  // 6. A bits on every entry used, D on the leaf for a write (only where they change).
  for (let lv = 0; lv < 4; lv++) {
    f.get(level).i32(lv).i32_ge_u().if_();
    f.get(ptes[lv]).i64(0x20).i64_or();
    write().get(level).i32(lv).i32_eq().i32_and().if_(T.i64).i64(0x40).else_().i64(0).end().i64_or();
    f.tee(pte).get(ptes[lv]).i64_ne().if_().get(hosts[lv]).get(pte).i64_store32(0).end();
    f.end();
  }
  // 7. The TLB entry: write right once the page is dirty and the rights allow it.
  user().if_(T.i32).get(rw).else_().get(rw); wp(); f.i32_eqz().i32_or().end();
  write().get(leafPte).i64(0x40).i64_and().i64(0).i64_ne().i32_or().i32_and().get(dataNoWrite).i32_eqz().i32_and().set(writable);
  f.get(e).get(tag).i64_store(TLB.readTag);
  f.get(e).get(tag).i64(-1).get(writable).select().i64_store(TLB.writeTag);
  f.get(e).get(dataHost).i32(~0xfff).i32_and().i64_extend_i32_u().get(tag).i64_sub().i64_store(TLB.addend);
  // Log the slot (with the global bit: PTE.G under CR4.PGE).
  f.get(log).get(log).i32_load(0).i32(2).i32_shl().i32_add();
  f.get(va).i64(12).i64_shr_u().i32_wrap_i64().i32(TLB_ENTRIES - 1).i32_and();
  f.get(leafPte).i64(0x100).i64_and().i64(0).i64_ne();
  f.get(cpu).i64_load(CPU.cr4).i64(CR4_PGE).i64_and().i64(0).i64_ne().i32_and();
  f.if_(T.i32).i32(TLB_LOG_GLOBAL).else_().i32(0).end().i32_or().i32_store(4);
  f.get(log).get(log).i32_load(0).i32(1).i32_add().i32_store(0);
  f.get(dataHost).get(va).i32_wrap_i64().i32(0xfff).i32_and().i32_add().i64_extend_i32_u();
  return f;
}
