/**
 * The mm log (include/usm/usm_abi.h struct usm_mm_log, ioctl USM_SET_MM_LOG): a supervisor whose
 * libc makes its own vmcalls (glibc-patch/) maps and unmaps memory without the supervisor's page
 * tables hearing of it. Like a hypervisor's paravirtual notice, usmjit appends one event per range
 * whose Linux protection a vmcall changed (mmap, munmap, mprotect, mremap, brk) to a ring in guest
 * memory, and libusm brings its page tables in step at its next page fault. usmjit never edits
 * the guest's page tables itself: they are the supervisor's.
 */
import { PAGE_SIZE } from '../core/layout.js';
import { type AddressSpace, PROT_READ, PROT_WRITE } from '../paging/address-space.js';

/** Linux x86-64 system call numbers that change the memory map. */
const NR = { mmap: 9, mprotect: 10, munmap: 11, brk: 12, mremap: 25 } as const;
export const MM_LOG_LEN = 64;
/** struct usm_mm_log: head, tail, overflow, reserved, then 24-byte events. */
const HEAD = 0, TAIL = 4, OVERFLOW = 8, EVENTS = 16, EVENT_SIZE = 24;

const pageUp = (x: bigint) => (x + BigInt(PAGE_SIZE - 1)) & ~BigInt(PAGE_SIZE - 1);
const isErr = (r: bigint) => BigInt.asUintN(64, r) >= BigInt.asUintN(64, -4095n);

/** What a call needs from before it ran (brk's old end: the result alone does not say). */
export interface MmBefore { nr: number; brkEnd: number }

export class MmLog {
  /** Guest address of the struct usm_mm_log, 0 when nobody asked. */
  addr = 0;

  constructor(private readonly as: AddressSpace) {}

  /** Whether the call `nr` needs recording (cheap test on every vmcall). */
  wants(nr: number): boolean {
    return this.addr !== 0 && (nr === NR.mmap || nr === NR.mprotect || nr === NR.munmap || nr === NR.brk || nr === NR.mremap);
  }

  before(nr: number): MmBefore {
    return { nr, brkEnd: this.as.brkEnd };
  }

  /** After the call: a1..a5 are its arguments (rdi rsi rdx r10 r8), ret its result. */
  after(b: MmBefore, a: bigint[], ret: bigint): void {
    if (isErr(ret)) return;
    const [a1, a2, a3] = a;
    switch (b.nr) {
      case NR.mmap: this.append(ret, ret + pageUp(a2), a3); break;
      case NR.munmap: this.append(a1, a1 + pageUp(a2), 0n); break;
      case NR.mprotect: this.append(a1, a1 + pageUp(a2), a3); break;
      case NR.mremap: {
        const oldEnd = a1 + pageUp(a2), newLen = pageUp(a3);
        if (ret !== a1) this.append(a1, oldEnd, 0n);
        else if (a1 + newLen < oldEnd) this.append(a1 + newLen, oldEnd, 0n);
        const r = this.as.regionAt(Number(ret));
        this.append(ret, ret + newLen, BigInt(r ? r.prot : PROT_READ | PROT_WRITE));
        break;
      }
      case NR.brk: {
        const before = pageUp(BigInt(b.brkEnd)), now = pageUp(BigInt(this.as.brkEnd));
        if (now > before) this.append(before, now, BigInt(PROT_READ | PROT_WRITE));
        else if (now < before) this.append(now, before, 0n);
        break;
      }
    }
  }

  private append(begin: bigint, end: bigint, prot: bigint): void {
    if (end <= begin) return;
    const as = this.as, at = this.addr;
    try {
      const head = as.readU32(at + HEAD), tail = as.readU32(at + TAIL);
      if (((head - tail) >>> 0) >= MM_LOG_LEN) {
        as.writeU32(at + OVERFLOW, 1);
        return;
      }
      const ev = new DataView(new ArrayBuffer(EVENT_SIZE));
      ev.setBigUint64(0, begin, true);
      ev.setBigUint64(8, end, true);
      ev.setBigUint64(16, prot, true);
      as.write(at + EVENTS + (head % MM_LOG_LEN) * EVENT_SIZE, new Uint8Array(ev.buffer));
      as.writeU32(at + HEAD, (head + 1) >>> 0);
    } catch {
      // The log's memory is gone (the guest unmapped it): stop logging rather than fault the call.
      this.addr = 0;
    }
  }
}
