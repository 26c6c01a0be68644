import { CPU, GPR_NAMES } from './layout.js';

/** The guest memory as the CPU view needs it (paging/frames.ts FrameAllocator implements it). */
export interface GuestMemoryBuffer {
  readonly memory: WebAssembly.Memory;
  /** Bumped whenever the memory grows (growing detaches the old buffer). */
  readonly version: number;
}

/**
 * The TypeScript view of one virtual CPU's state, which lives in Wasm memory at `base`
 * (offsets: core/layout.ts). JIT code reads and writes the same bytes.
 */
export class CpuState {
  private view: DataView | null = null;
  private version = -1;

  constructor(private readonly frames: GuestMemoryBuffer, readonly base: number) {}

  /** A view of the CPU block, rebuilt only when the memory grows (growing detaches buffers). */
  private dv(): DataView {
    if (!this.view || this.version !== this.frames.version) {
      this.view = new DataView(this.frames.memory.buffer, this.base, CPU.tlb);
      this.version = this.frames.version;
    }
    return this.view;
  }

  /** General register by x86 number (0 = rax ... 15 = r15), as an unsigned 64-bit value. */
  get(reg: number): bigint {
    return this.dv().getBigUint64(CPU.gpr + reg * 8, true);
  }
  set(reg: number, v: bigint): void {
    this.dv().setBigUint64(CPU.gpr + reg * 8, BigInt.asUintN(64, v), true);
  }

  get rip(): bigint { return this.dv().getBigUint64(CPU.rip, true); }
  set rip(v: bigint) { this.dv().setBigUint64(CPU.rip, BigInt.asUintN(64, v), true); }
  get fsBase(): bigint { return this.dv().getBigUint64(CPU.fsBase, true); }
  set fsBase(v: bigint) { this.dv().setBigUint64(CPU.fsBase, BigInt.asUintN(64, v), true); }
  get gsBase(): bigint { return this.dv().getBigUint64(CPU.gsBase, true); }
  set gsBase(v: bigint) { this.dv().setBigUint64(CPU.gsBase, BigInt.asUintN(64, v), true); }

  u32(off: number): number { return this.dv().getUint32(off, true); }
  setU32(off: number, v: number): void { this.dv().setUint32(off, v >>> 0, true); }
  u64(off: number): bigint { return this.dv().getBigUint64(off, true); }
  setU64(off: number, v: bigint): void { this.dv().setBigUint64(off, BigInt.asUintN(64, v), true); }

  /** Registers as text, for crash reports and tracing. */
  dump(): string {
    const parts = GPR_NAMES.map((n, i) => `${n}=${this.get(i).toString(16)}`);
    return `rip=${this.rip.toString(16)} ` + parts.join(' ');
  }
}
