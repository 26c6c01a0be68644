/**
 * The one exception channel. A guest CPU exception, in either mode, is a `GuestException` record
 * written into the CPU block; translated code leaves the region with Exit.Exception and the
 * dispatcher hands the record to the mode's exception sink (the IDT in USM mode, Linux signal
 * delivery in Linux mode). Host exceptions are left for what ends the guest: exit, kill, the end
 * of a USM session.
 *
 * Record fields (core/layout.ts): CPU.exitArg = vector | error << 8, CPU.exitInsn = rip of the
 * instruction, CPU.faultAddr = CR2 (page faults). CPU.fault tells a slow-path call's caller in
 * translated code to leave at once (Emitter.faultCheck).
 */
import type { CpuState } from './cpu-state.js';
import { Vector } from './exits.js';
import { CPU } from './layout.js';

export interface GuestException {
  vector: number;
  /** The error code (0 for vectors that push none). */
  error: number;
  /** #PF: the linear address (CR2). */
  cr2?: bigint;
  /** The instruction it belongs to. */
  rip: bigint;
}

/** CPU.fault: why a slow-path call asks translated code to leave. */
export const enum Pending {
  None = 0,
  /** A guest exception is recorded. */
  Exception = 1,
  /** USM: an access reached a guest-physical address the process has no memory at (the session ends; faultAddr is it). */
  PhysAbort = 2,
}

/** x86 page-fault error code bits. */
export const PFERR = { P: 1, W: 2, U: 4, RSVD: 8, ID: 0x10 } as const;

/**
 * What a memory access can fail with, raised deep inside TypeScript slow paths (page walks, the
 * Linux address space, JS-implemented instructions) and turned into the record at the one
 * boundary where translated code called in (vmx/slow-path.ts). Not an Error: a guest fault is
 * control flow (demand paging, SIGSEGV handlers), and capturing a host stack costs more than the
 * rest of the fault.
 */
export abstract class MemoryFault {
  /** The guest exception this is; null when no guest exception describes it (PhysAbort). */
  abstract exception(): { vector: number; error: number; cr2?: bigint } | null;
  /** The address for a PhysAbort / diagnostics. */
  abstract get addr64(): bigint;
  get message(): string {
    const x = this.exception();
    return x ? `guest exception ${x.vector} (error ${x.error}) at 0x${this.addr64.toString(16)}` : `no memory at 0x${this.addr64.toString(16)}`;
  }
  toString(): string {
    return this.message;
  }
}

/** Writes the record and asks translated code to leave (CPU.fault). */
export function recordException(cpu: CpuState, x: GuestException): void {
  cpu.setU64(CPU.exitArg, BigInt(x.vector) | (BigInt(x.error) << 8n));
  if (x.cr2 !== undefined) cpu.setU64(CPU.faultAddr, x.cr2);
  cpu.setU64(CPU.exitInsn, x.rip);
  cpu.rip = x.rip;
  cpu.setU32(CPU.fault, Pending.Exception);
}

/** Records a MemoryFault raised by the instruction at `rip`. */
export function recordFault(cpu: CpuState, f: MemoryFault, rip: bigint): void {
  const x = f.exception();
  if (x) return recordException(cpu, { ...x, rip });
  cpu.setU64(CPU.faultAddr, f.addr64);
  cpu.setU64(CPU.exitInsn, rip);
  cpu.rip = rip;
  cpu.setU32(CPU.fault, Pending.PhysAbort);
}

/**
 * Reads (and clears) the record after an Exit.Exception. Exits raised by emitted code itself
 * (#UD, #DE, #GP ...) write the same fields without CPU.fault.
 */
export function takeException(cpu: CpuState): GuestException {
  const arg = cpu.u64(CPU.exitArg);
  const vector = Number(arg & 0xffn);
  cpu.setU32(CPU.fault, Pending.None);
  const x: GuestException = { vector, error: Number(arg >> 8n), rip: cpu.u64(CPU.exitInsn) };
  if (vector === Vector.PF) x.cr2 = cpu.u64(CPU.faultAddr);
  return x;
}
