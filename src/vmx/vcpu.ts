import { CpuState } from '../core/cpu-state.js';
import { CPU, cpuBlockBase } from '../core/layout.js';
import { CC } from '../jit/flags.js';
import type { FrameAllocator } from '../paging/frames.js';
import { Tlb } from '../paging/tlb.js';

/**
 * What one guest thread owns: its CPU block in Wasm memory (registers, lazy flags, fs/gs base,
 * exit fields, FP state) and the TLB banks that follow it (bank 0: Linux mode and USM CPL0,
 * bank 1: USM CPL3). What a process owns (address space, code cache, kernel) is the Machine's.
 */
export class VCpu {
  readonly base: number;
  readonly cpu: CpuState;
  readonly tlbs: Tlb[];

  constructor(frames: FrameAllocator, readonly index = 0) {
    this.base = cpuBlockBase(index);
    this.cpu = new CpuState(frames, this.base);
    this.tlbs = [new Tlb(frames, this.base, 0), new Tlb(frames, this.base, 1)];
    const c = this.cpu;
    // Bit 1 of RFLAGS is always set; IF is set for user code.
    c.setU64(CPU.rflags, 0x202n);
    c.setU32(CPU.ccOp, CC.EFLAGS);
    c.setU64(CPU.ccRes, 0n);
    c.setU32(CPU.mxcsr, 0x1f80);
    c.setU32(CPU.fpCw, 0x37f);
    c.setU32(CPU.cs, 0x33);
    c.setU32(CPU.ss, 0x2b);
  }
}
