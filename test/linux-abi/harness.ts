/**
 * A kernel with a little guest memory for the tests: `sys(name, ...args)` puts the call in the
 * CPU's registers like the `syscall` instruction would and runs it.
 */
import { cpuBlockBase } from '../../src/core/layout.js';
import { AddressSpace, PROT_READ, PROT_WRITE } from '../../src/paging/address-space.js';
import { FrameAllocator } from '../../src/paging/frames.js';
import { CpuState } from '../../src/core/cpu-state.js';
import { LinuxKernel, type KernelOptions } from '../../src/linux-abi/kernel.js';
import { syscallNumber } from '../../src/linux-abi/table.js';

/** Scratch memory the tests use: BUF..BUF+BUF_LEN, read/write. */
export const BUF = 0x10_0000;
export const BUF_LEN = 0x10_0000;
export const HEAP = 0x60_0000;

export interface Harness {
  kernel: LinuxKernel;
  as: AddressSpace;
  cpu: CpuState;
  log: string[];
  /** Runs a syscall by name or number; arguments may be numbers or bigints. */
  sys(nr: string | number | bigint, ...args: (number | bigint)[]): bigint;
  /** Writes a NUL-terminated string at addr and returns addr. */
  str(addr: number, s: string): number;
  /** Reads len bytes at addr. */
  bytes(addr: number, len: number): Uint8Array;
  text(addr: number, len: number): string;
}

export function harness(opts: Partial<KernelOptions> = {}): Harness {
  const frames = new FrameAllocator();
  const as = new AddressSpace(frames);
  const cpu = new CpuState(frames, cpuBlockBase(0));
  as.map(BUF, BUF_LEN, PROT_READ | PROT_WRITE);
  as.brkStart = as.brkEnd = HEAP;
  const log: string[] = [];
  const kernel = new LinuxKernel({
    as, exePath: '/bin/true', strace: false, log: (l) => log.push(l), ...opts,
  });
  const regs = [7, 6, 2, 10, 8, 9];
  return {
    kernel, as, cpu, log,
    sys(nr, ...args) {
      cpu.set(0, BigInt(typeof nr === 'string' ? syscallNumber(nr) : nr));
      for (let i = 0; i < 6; i++) cpu.set(regs[i], BigInt(args[i] ?? 0));
      return kernel.syscall(cpu);
    },
    str(addr, s) {
      as.write(addr, Buffer.from(s + '\0', 'utf8'));
      return addr;
    },
    bytes(addr, len) {
      return as.read(addr, len);
    },
    text(addr, len) {
      return Buffer.from(as.read(addr, len)).toString('utf8');
    },
  };
}

export const AT_FDCWD = -100;
