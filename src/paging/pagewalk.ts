/**
 * The x86-64 4-level page walk (SDM vol. 3, 4.5) over the guest's own page tables, as USM mode
 * uses them: guest-physical addresses are the process's Linux-mode addresses (see
 * docs/usm-abi.md), read and written through `PhysicalMemory`.
 */
import { GuestFault, Access } from './address-space.js';

/** Page-table entry bits. */
export const PTE = {
  P: 1n, RW: 2n, US: 4n, PWT: 8n, PCD: 0x10n, A: 0x20n, D: 0x40n, PS: 0x80n, G: 0x100n,
  NX: 1n << 63n,
} as const;

/** #PF error code bits. */
export const PFERR = { P: 1, W: 2, U: 4, RSVD: 8, ID: 0x10 } as const;

export const CR0_WP = 1n << 16n;
export const CR4_PGE = 1n << 7n;
export const CR4_PCIDE = 1n << 17n;
export const EFER_NXE = 1n << 11n;

/** Guest-physical address bits (CPUID 0x80000008 reports the same). */
export const PHYS_BITS = 47;
const ADDR_MASK = ((1n << BigInt(PHYS_BITS)) - 1n) & ~0xfffn;
/** Bits 51:PHYS_BITS of an entry's address field are reserved. */
const RSVD_ADDR = ((1n << 52n) - 1n) & ~((1n << BigInt(PHYS_BITS)) - 1n);

/** Where the walk reads and writes page-table entries. Throws PhysFault outside the process. */
export interface PhysicalMemory {
  readPhys64(pa: number): bigint;
  writePhys64(pa: number, v: bigint): void;
}

/** An access to guest-physical memory the process has not mapped (Dune's "EPT violation"). */
export class PhysFault extends Error {
  constructor(readonly addr: bigint) {
    super(`guest-physical address 0x${addr.toString(16)} is not mapped by the process`);
  }
}

/** A #PF: the faulting linear address (CR2) and the error code. */
export class PageFault extends GuestFault {
  constructor(readonly linear: bigint, readonly errorCode: number) {
    super(Number(BigInt.asUintN(64, linear) & 0xffff_ffff_ffffn), errorCode & PFERR.ID ? Access.Exec : errorCode & PFERR.W ? Access.Write : Access.Read, errorCode & PFERR.P ? 2 : 1);
  }
}

/** The paging controls a walk depends on. */
export interface PagingControl {
  cr0: bigint;
  cr3: bigint;
  cr4: bigint;
  efer: bigint;
}

export interface WalkAccess {
  write: boolean;
  user: boolean;
  fetch: boolean;
}

/** A successful translation of one 4 KiB page. */
export interface Translation {
  /** Guest-physical address of the 4 KiB page holding the address. */
  phys: number;
  /** Whether the current access rights allow writing (and the leaf's D bit is set). */
  writable: boolean;
  /** U/S of the whole walk: a CPL3 access may use it. */
  user: boolean;
  global: boolean;
  nx: boolean;
  /** Size of the leaf page (4096, 2 MiB, 1 GiB). */
  size: number;
}

const SHIFTS = [39n, 30n, 21n, 12n];

/**
 * Walks `vaddr` for `acc`, setting A bits on every entry used and D on the leaf when writing.
 * Throws PageFault with the architectural error code, or PhysFault.
 */
export function walk(mem: PhysicalMemory, ctl: PagingControl, vaddr: bigint, acc: WalkAccess): Translation {
  const nxe = (ctl.efer & EFER_NXE) !== 0n;
  const va = BigInt.asUintN(64, vaddr);
  const errBase = (acc.write ? PFERR.W : 0) | (acc.user ? PFERR.U : 0) | (acc.fetch && nxe ? PFERR.ID : 0);
  // Non-canonical addresses are #GP, which the callers check first; here bits 63:48 are ignored.
  let table = ctl.cr3 & ADDR_MASK;
  let rw = true, us = true, nx = false;
  const used: { pa: number; pte: bigint }[] = [];
  let leaf = 0n, level = 0, leafPa = 0;
  for (level = 0; level < 4; level++) {
    const idx = (va >> SHIFTS[level]) & 511n;
    const pa = Number(table + idx * 8n);
    const pte = mem.readPhys64(pa);
    if ((pte & PTE.P) === 0n) throw new PageFault(va, errBase);
    const ps = (pte & PTE.PS) !== 0n;
    let rsvd = (pte & RSVD_ADDR) !== 0n || (!nxe && (pte & PTE.NX) !== 0n);
    if (level === 0 && ps) rsvd = true;
    if (level === 1 && ps && (pte & 0x3fff_e000n) !== 0n) rsvd = true; // 1 GiB: bits 29:13
    if (level === 2 && ps && (pte & 0x1f_e000n) !== 0n) rsvd = true; // 2 MiB: bits 20:13
    if (rsvd) throw new PageFault(va, errBase | PFERR.P | PFERR.RSVD);
    rw &&= (pte & PTE.RW) !== 0n;
    us &&= (pte & PTE.US) !== 0n;
    nx ||= nxe && (pte & PTE.NX) !== 0n;
    used.push({ pa, pte });
    if (level === 3 || (ps && level >= 1)) {
      leaf = pte;
      leafPa = pa;
      break;
    }
    table = pte & ADDR_MASK;
  }
  // Rights (SDM 4.6): user accesses need U everywhere; writes need RW everywhere unless a
  // supervisor write with CR0.WP clear; fetches need NX clear.
  const wp = (ctl.cr0 & CR0_WP) !== 0n;
  const ok = (!acc.user || us) && (!acc.write || rw || (!acc.user && !wp)) && (!acc.fetch || !nx);
  if (!ok) throw new PageFault(va, errBase | PFERR.P);
  for (const u of used) {
    let v = u.pte | PTE.A;
    if (u.pa === leafPa && acc.write) v |= PTE.D;
    if (v !== u.pte) mem.writePhys64(u.pa, v);
  }
  const dirty = acc.write || (leaf & PTE.D) !== 0n;
  const shift = SHIFTS[level];
  const size = 1n << shift;
  const frame = (leaf & ADDR_MASK & ~(size - 1n)) | (va & (size - 1n) & ~0xfffn);
  const canWrite = acc.user ? rw : rw || !wp;
  return {
    phys: Number(frame),
    writable: canWrite && dirty,
    user: us,
    global: (leaf & PTE.G) !== 0n && (ctl.cr4 & CR4_PGE) !== 0n,
    nx,
    size: Number(size),
  };
}

/** A canonical 48-bit address (bits 63:47 all equal). */
export function canonical(v: bigint): boolean {
  const top = BigInt.asUintN(64, v) >> 47n;
  return top === 0n || top === 0x1ffffn;
}
