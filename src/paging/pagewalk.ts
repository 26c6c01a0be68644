/**
 * The x86-64 4-level page walk (SDM vol. 3, 4.5) over the guest's own page tables, as USM mode
 * uses them: guest-physical addresses are the process's Linux-mode addresses (see
 * docs/usm-abi.md), read and written through `PhysicalMemory`.
 */
import { MemoryFault, PFERR } from '../core/exception.js';
import { Vector } from '../core/exits.js';

/** Page-table entry bits. */
export const PTE = {
  P: 1n, RW: 2n, US: 4n, PWT: 8n, PCD: 0x10n, A: 0x20n, D: 0x40n, PS: 0x80n, G: 0x100n,
  NX: 1n << 63n,
} as const;

/** #PF error code bits. */
export { PFERR };

export const CR0_WP = 1n << 16n;
export const CR4_PGE = 1n << 7n;
export const CR4_PCIDE = 1n << 17n;
export const EFER_NXE = 1n << 11n;

/** Guest-physical address bits (CPUID 0x80000008 reports the same). */
export const PHYS_BITS = 47;
const ADDR_MASK = ((1n << BigInt(PHYS_BITS)) - 1n) & ~0xfffn;

/** Where the walk reads and writes page-table entries. Throws PhysFault outside the process. */
export interface PhysicalMemory {
  readPhys32(pa: number): number;
  writePhys32(pa: number, v: number): void;
  /** Host address of 8-byte aligned guest-physical `pa` (PhysFault if unmapped). */
  hostOf(pa: number): number;
  /** The memory, for reading entries at host addresses. */
  readonly dv: DataView;
}

/** An access to guest-physical memory the process has not mapped (Dune's "EPT violation"). */
export class PhysFault extends MemoryFault {
  constructor(readonly addr: bigint) {
    super();
  }
  exception(): null {
    return null;
  }
  get addr64(): bigint {
    return this.addr;
  }
}

/**
 * A #PF: the faulting linear address (CR2) and the error code. Not an Error: page faults are
 * control flow in USM mode (a supervisor's demand paging), and building an Error costs more than
 * the rest of the walk.
 */
export class PageFault extends MemoryFault {
  constructor(readonly linear: bigint, readonly errorCode: number) {
    super();
  }
  exception(): { vector: number; error: number; cr2: bigint } {
    return { vector: Vector.PF, error: this.errorCode, cr2: this.linear };
  }
  get addr64(): bigint {
    return this.linear;
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

const SHIFT_DIV = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];
const LEVEL_SIZE = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];
const HI = 2 ** 32;

/**
 * Walks `vaddr` for `acc`, setting A bits on every entry used and D on the leaf when writing.
 * Throws PageFault with the architectural error code, or PhysFault.
 *
 * Entries are handled as two 32-bit halves in plain numbers (BigInt arithmetic dominated the
 * cost of a fault): lo holds P RW US PWT PCD A D PS G and address bits 12-31, hi address bits
 * 32-51 and NX (bit 31).
 */
/** The controls as plain numbers, recomputed only when a register changes. */
const ctlCache = { cr0: -1n, cr3: -1n, cr4: -1n, efer: -1n, nxe: false, wp: false, pge: false, root: 0 };
const used = new Array<number>(8);

/** Walks `vaddr` for `acc` (see walkOrFault); throws PageFault. */
export function walk(mem: PhysicalMemory, ctl: PagingControl, vaddr: bigint, acc: WalkAccess): Translation {
  const t = walkOrFault(mem, ctl, vaddr, acc);
  if (typeof t === 'number') throw new PageFault(vaddr, t);
  return t;
}

/**
 * The walk itself; a #PF comes back as its error code (a number), not an exception, so the slow
 * paths of translated code can record it without throwing.
 */
export function walkOrFault(mem: PhysicalMemory, ctl: PagingControl, vaddr: bigint, acc: WalkAccess): Translation | number {
  const c = ctlCache;
  if (c.cr3 !== ctl.cr3 || c.cr0 !== ctl.cr0 || c.cr4 !== ctl.cr4 || c.efer !== ctl.efer) {
    c.cr0 = ctl.cr0; c.cr3 = ctl.cr3; c.cr4 = ctl.cr4; c.efer = ctl.efer;
    c.nxe = (ctl.efer & EFER_NXE) !== 0n;
    c.wp = (ctl.cr0 & CR0_WP) !== 0n;
    c.pge = (ctl.cr4 & CR4_PGE) !== 0n;
    c.root = Number(ctl.cr3 & ADDR_MASK);
  }
  const nxe = c.nxe;
  const va = Number(BigInt.asUintN(48, vaddr));
  const errBase = (acc.write ? PFERR.W : 0) | (acc.user ? PFERR.U : 0) | (acc.fetch && nxe ? PFERR.ID : 0);
  // Non-canonical addresses are #GP, which the callers check first; here bits 63:48 are ignored.
  let table = c.root;
  let rw = true, us = true, nx = false;
  let nUsed = 0;
  let leafLo = 0, leafHi = 0, level = 0, leafPa = 0;
  const rsvdHi = ((1 << (52 - 32)) - 1) & ~((1 << (PHYS_BITS - 32)) - 1); // address bits 51:PHYS_BITS
  for (level = 0; level < 4; level++) {
    const idx = Math.floor(va / SHIFT_DIV[level]) % 512;
    const pa = table + idx * 8;
    const h = mem.hostOf(pa);
    const dv = mem.dv;
    const lo = dv.getInt32(h, true), hi = dv.getInt32(h + 4, true);
    if ((lo & 1) === 0) return errBase;
    const ps = (lo & 0x80) !== 0;
    let rsvd = (hi & rsvdHi) !== 0 || (!nxe && hi < 0);
    if (level === 0 && ps) rsvd = true;
    if (level === 1 && ps && (lo & 0x3fff_e000) !== 0) rsvd = true; // 1 GiB: bits 29:13
    if (level === 2 && ps && (lo & 0x1f_e000) !== 0) rsvd = true; // 2 MiB: bits 20:13
    if (rsvd) return errBase | PFERR.P | PFERR.RSVD;
    rw &&= (lo & 2) !== 0;
    us &&= (lo & 4) !== 0;
    nx ||= nxe && hi < 0;
    used[nUsed++] = pa;
    used[nUsed++] = lo;
    if (level === 3 || (ps && level >= 1)) {
      leafLo = lo;
      leafHi = hi;
      leafPa = pa;
      break;
    }
    table = ((lo & ~0xfff) >>> 0) + (hi & ((1 << (PHYS_BITS - 32)) - 1)) * HI;
  }
  // Rights (SDM 4.6): user accesses need U everywhere; writes need RW everywhere unless a
  // supervisor write with CR0.WP clear; fetches need NX clear.
  const wp = c.wp;
  const ok = (!acc.user || us) && (!acc.write || rw || (!acc.user && !wp)) && (!acc.fetch || !nx);
  if (!ok) return errBase | PFERR.P;
  for (let k = 0; k < nUsed; k += 2) {
    const pa = used[k], lo = used[k + 1];
    let v = lo | 0x20;
    if (pa === leafPa && acc.write) v |= 0x40;
    if (v !== lo) mem.writePhys32(pa, v);
  }
  const dirty = acc.write || (leafLo & 0x40) !== 0;
  const size = LEVEL_SIZE[level];
  const leafAddr = ((leafLo & ~0xfff) >>> 0) + (leafHi & ((1 << (PHYS_BITS - 32)) - 1)) * HI;
  const base = leafAddr - (leafAddr % size);
  const frame = base + ((va % size) - (va % 4096));
  const canWrite = acc.user ? rw : rw || !wp;
  return {
    phys: frame,
    writable: canWrite && dirty,
    user: us,
    global: (leafLo & 0x100) !== 0 && c.pge,
    nx,
    size,
  };
}

/** A canonical 48-bit address (bits 63:47 all equal). */
export function canonical(v: bigint): boolean {
  const top = BigInt.asUintN(64, v) >> 47n;
  return top === 0n || top === 0x1ffffn;
}
