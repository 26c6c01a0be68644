/**
 * The supervisor-visible state of the virtual CPU in USM mode: privilege level, control
 * registers, MSRs, descriptor-table registers and debug registers. General registers, rip,
 * rflags, segment selectors and FS/GS bases live in the CPU block (core/layout.ts) where the JIT
 * reads them; this is the rest, which only the runtime touches (privileged instructions,
 * exception delivery, the MMU).
 */
import { CR0_WP, CR4_PCIDE, CR4_PGE, EFER_NXE } from '../paging/pagewalk.js';
import type { MmuControl } from '../paging/mmu.js';
import { CPU } from '../core/layout.js';
import type { CpuState } from '../core/cpu-state.js';

export const CR0 = { PE: 1n, MP: 2n, EM: 4n, TS: 8n, ET: 0x10n, NE: 0x20n, WP: CR0_WP, AM: 1n << 18n, NW: 1n << 29n, CD: 1n << 30n, PG: 1n << 31n } as const;
export const CR4 = { TSD: 1n << 2n, DE: 1n << 3n, PAE: 1n << 5n, PGE: CR4_PGE, OSFXSR: 1n << 9n, OSXMMEXCPT: 1n << 10n, FSGSBASE: 1n << 16n, PCIDE: CR4_PCIDE } as const;
export const EFER = { SCE: 1n, LME: 1n << 8n, LMA: 1n << 10n, NXE: EFER_NXE } as const;

/** CR0/CR4/EFER at USM entry (docs/usm-abi.md): PE MP ET NE WP PG. */
export const CR0_AT_ENTRY = CR0.PE | CR0.MP | CR0.ET | CR0.NE | CR0.WP | CR0.PG;
export const CR4_AT_ENTRY = CR4.PAE | CR4.PGE | CR4.OSFXSR | CR4.OSXMMEXCPT | CR4.FSGSBASE;
export const EFER_AT_ENTRY = EFER.SCE | EFER.LME | EFER.LMA | EFER.NXE;
/** CR0 bits the guest may change (the others are fixed: protected mode with paging). */
export const CR0_WRITABLE = CR0.TS | CR0.WP | CR0.NE | CR0.NW | CR0.CD;
/**
 * CR0 bits usmjit does not implement: a write must keep them as at entry (MP set, EM and AM
 * clear) or it is refused with #GP(0), rather than accepted and ignored (docs/usm-abi.md).
 * EM (x87 emulation) and AM (alignment checks at CPL3, which would cost a check on every access)
 * are unused by 64-bit kernels; MP fixed makes `wait` #NM exactly when TS is set.
 */
export const CR0_FIXED = CR0.MP | CR0.EM | CR0.AM;
/** CR4 bits the guest may change. */
export const CR4_WRITABLE = CR4.PGE | CR4.OSFXSR | CR4.OSXMMEXCPT | CR4.FSGSBASE | CR4.PCIDE | CR4.TSD | CR4.DE;

export const SEL = { KERNEL_CS: 0x10, KERNEL_DS: 0x18, USER_DS: 0x2b, USER_CS: 0x33 } as const;

/** MSR numbers the virtual CPU implements. */
export const MSR = {
  TSC: 0x10, EFER: 0xc000_0080, STAR: 0xc000_0081, LSTAR: 0xc000_0082, CSTAR: 0xc000_0083, SFMASK: 0xc000_0084,
  FS_BASE: 0xc000_0100, GS_BASE: 0xc000_0101, KERNEL_GS_BASE: 0xc000_0102, TSC_AUX: 0xc000_0103,
  APIC_BASE: 0x1b, X2APIC_ID: 0x802, X2APIC_VERSION: 0x803, X2APIC_TPR: 0x808, X2APIC_EOI: 0x80b,
  X2APIC_SVR: 0x80f, X2APIC_LVT_TIMER: 0x832, X2APIC_TMICT: 0x838, X2APIC_TMCCT: 0x839, X2APIC_TDCR: 0x83e,
} as const;

export interface TableReg { base: bigint; limit: number }

/**
 * The supervisor state. What the Wasm fast paths (vmx/usm-fast/) read or write lives in the CPU
 * block (core/layout.ts CPU.cpl ... CPU.sfmask) and these are accessors of it; the rest is here.
 */
export class UsmState implements MmuControl {
  cr8 = 0n;
  cstar = 0n;
  tscAux = 0n;
  gdtr: TableReg = { base: 0n, limit: 0 };
  tr = 0;
  dr: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n, 0xffff_0ff0n, 0x400n];

  constructor(private readonly cpu: CpuState) {}

  get cpl(): number { return this.cpu.u32(CPU.cpl); }
  set cpl(v: number) { this.cpu.setU32(CPU.cpl, v); }
  get cr0(): bigint { return this.cpu.u64(CPU.cr0); }
  set cr0(v: bigint) { this.cpu.setU64(CPU.cr0, v); }
  get cr2(): bigint { return this.cpu.u64(CPU.cr2); }
  set cr2(v: bigint) { this.cpu.setU64(CPU.cr2, v); }
  get cr3(): bigint { return this.cpu.u64(CPU.cr3); }
  set cr3(v: bigint) { this.cpu.setU64(CPU.cr3, v); }
  get cr4(): bigint { return this.cpu.u64(CPU.cr4); }
  set cr4(v: bigint) { this.cpu.setU64(CPU.cr4, v); }
  get efer(): bigint { return this.cpu.u64(CPU.efer); }
  set efer(v: bigint) { this.cpu.setU64(CPU.efer, v); }
  get star(): bigint { return this.cpu.u64(CPU.star); }
  set star(v: bigint) { this.cpu.setU64(CPU.star, v); }
  get lstar(): bigint { return this.cpu.u64(CPU.lstar); }
  set lstar(v: bigint) { this.cpu.setU64(CPU.lstar, v); }
  get sfmask(): bigint { return this.cpu.u64(CPU.sfmask); }
  set sfmask(v: bigint) { this.cpu.setU64(CPU.sfmask, v); }
  get kernelGsBase(): bigint { return this.cpu.u64(CPU.kernelGsBase); }
  set kernelGsBase(v: bigint) { this.cpu.setU64(CPU.kernelGsBase, v); }
  /** Base of the TSS that `ltr` loaded (RSP0 at +4, IST1..7 at +0x24). */
  get tssBase(): bigint { return this.cpu.u64(CPU.tssBase); }
  set tssBase(v: bigint) { this.cpu.setU64(CPU.tssBase, v); }
  get idtr(): TableReg { return { base: this.cpu.u64(CPU.idtrBase), limit: this.cpu.u32(CPU.idtrLimit) }; }
  set idtr(t: TableReg) {
    this.cpu.setU64(CPU.idtrBase, t.base);
    this.cpu.setU32(CPU.idtrLimit, t.limit);
  }

  /** The state at USM_ENTER. */
  reset(cr3: bigint): void {
    this.cr8 = this.cstar = this.tscAux = 0n;
    this.gdtr = { base: 0n, limit: 0 };
    this.tr = 0;
    this.dr = [0n, 0n, 0n, 0n, 0n, 0n, 0xffff_0ff0n, 0x400n];
    this.cpl = 0;
    this.cr0 = CR0_AT_ENTRY;
    this.cr2 = 0n;
    this.cr3 = cr3;
    this.cr4 = CR4_AT_ENTRY;
    this.efer = EFER_AT_ENTRY;
    this.star = this.lstar = this.sfmask = this.kernelGsBase = this.tssBase = 0n;
    this.idtr = { base: 0n, limit: 0 };
  }

  /** The PCID of the current CR3 (0 unless CR4.PCIDE). */
  get pcid(): number {
    return this.cr4 & CR4.PCIDE ? Number(this.cr3 & 0xfffn) : 0;
  }
}
