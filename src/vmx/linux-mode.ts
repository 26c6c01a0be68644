/**
 * Linux mode (a plain Linux process, like qemu-user): guest addresses are the AddressSpace's,
 * checked against its regions; faults become Linux signals (linux-abi/signal-delivery.ts).
 */
import { type GuestException, MemoryFault, PFERR, recordException, recordFault } from '../core/exception.js';
import type { CpuState } from '../core/cpu-state.js';
import { CPU, Mode, PAGE_SIZE } from '../core/layout.js';
import { Vector } from '../core/exits.js';
import { deliverException, type SignalDelivery } from '../linux-abi/signal-delivery.js';
import { SEGV_ACCERR, SEGV_MAPERR } from '../linux-abi/signals.js';
import type { CodePages } from '../jit/code-pages.js';
import { Access, type AddressSpace, GuestFault, PROT_EXEC, PROT_WRITE } from '../paging/address-space.js';
import type { FrameAllocator } from '../paging/frames.js';
import type { Tlb } from '../paging/tlb.js';
import type { ExecMode } from './exec-mode.js';

const KERNEL_HALF = 0xffff_8000_0000_0000n;

/** Populated pages after a missing access's that Exit.Miss fills too (LinuxMode.fillAhead). */
const FILL_AHEAD = 15;

export class LinuxMode implements ExecMode {
  /** Signal delivery to guest handlers; without it every fault takes its default action. */
  signals?: SignalDelivery;

  constructor(
    private readonly cpu: CpuState,
    private readonly as: AddressSpace,
    private readonly frames: FrameAllocator,
    /** TLB bank 0 (Linux mode has one). */
    private readonly tlb: Tlb,
    private readonly codePages: CodePages,
    /** Why the instruction at an address was not translated (for the SIGILL report). */
    private readonly untranslated: (rip: number) => string | undefined,
  ) {}

  get mem(): AddressSpace {
    return this.as;
  }

  // ---- slow paths ----------------------------------------------------------------------------

  /**
   * The address of an access as a number, or -1 after recording the fault of an address Linux
   * never maps: kernel-half addresses page-fault, non-canonical ones are #GP.
   */
  private addr(a: bigint, rip: bigint, access: Access): number {
    const n = BigInt.asUintN(64, a);
    if (n < 0x8000_0000_0000n) return Number(n);
    if (n >= KERNEL_HALF) {
      const error = PFERR.U | (access === Access.Write ? PFERR.W : 0);
      recordException(this.cpu, { vector: Vector.PF, error, cr2: n, rip });
    } else {
      recordException(this.cpu, { vector: Vector.GP, error: 0, rip });
    }
    return -1;
  }

  /** Fills the TLB entry for the page of `a` after a successful access. */
  private fill(a: number): void {
    const page = a - (a % PAGE_SIZE);
    const r = this.as.regionAt(page);
    if (!r) return;
    // A clean shared file page gets no write right: its first write marks it dirty (slow path).
    const writable = (r.prot & PROT_WRITE) !== 0 && !this.as.code.has(page / PAGE_SIZE) && !this.as.writeTracked(page);
    this.tlb.fill(page, this.as.frameOf(page), r.prot !== 0, writable);
  }

  read(a: bigint, size: number, rip: bigint): bigint {
    const addr = this.addr(a, rip, Access.Read);
    if (addr < 0) return 0n;
    let bytes: Uint8Array;
    try {
      bytes = this.as.read(addr, size);
    } catch (e) {
      if (e instanceof MemoryFault) { recordFault(this.cpu, e, rip); return 0n; }
      throw e;
    }
    this.fill(addr);
    let v = 0n;
    for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(bytes[k]);
    return BigInt.asIntN(64, v);
  }

  write(a: bigint, size: number, v: bigint, rip: bigint): void {
    const addr = this.addr(a, rip, Access.Write);
    if (addr < 0) return;
    const bytes = new Uint8Array(size);
    for (let k = 0; k < size; k++) bytes[k] = Number((v >> BigInt(8 * k)) & 0xffn);
    this.put(addr, bytes, rip);
  }

  read128(c: number, a: bigint, rip: bigint): number {
    const addr = this.addr(a, rip, Access.Read);
    if (addr < 0) return c + CPU.scratch;
    try {
      this.frames.u8.set(this.as.read(addr, 16), c + CPU.scratch);
    } catch (e) {
      if (e instanceof MemoryFault) { recordFault(this.cpu, e, rip); return c + CPU.scratch; }
      throw e;
    }
    this.fill(addr);
    return c + CPU.scratch;
  }

  write128(c: number, a: bigint, rip: bigint): void {
    const addr = this.addr(a, rip, Access.Write);
    if (addr < 0) return;
    this.put(addr, this.frames.u8.slice(c + CPU.scratch, c + CPU.scratch + 16), rip);
  }

  private put(addr: number, bytes: Uint8Array, rip: bigint): void {
    try {
      this.as.write(addr, bytes);
    } catch (e) {
      if (e instanceof MemoryFault) { recordFault(this.cpu, e, rip); return; }
      throw e;
    }
    this.fill(addr);
  }

  fillFor(a: bigint, size: number, write: boolean, rip: bigint): 'hit' | 'fault' | 'never' {
    const access = write ? Access.Write : Access.Read;
    const addr = this.addr(a, rip, access);
    if (addr < 0) return 'fault';
    const crosses = (addr % PAGE_SIZE) + size > PAGE_SIZE;
    const fresh = write && !this.as.isPopulated(addr - (addr % PAGE_SIZE));
    try {
      this.as.translate(addr, access);
      if (fresh) this.populateAhead(addr);
      // The second page of a crossing access: a fault names its first byte, as Linux's does.
      if (crosses) this.as.translate(addr - (addr % PAGE_SIZE) + PAGE_SIZE, access);
    } catch (e) {
      if (e instanceof MemoryFault) { recordFault(this.cpu, e, rip); return 'fault'; }
      throw e;
    }
    this.fill(addr);
    this.fillAhead(addr);
    return !crosses && this.tlb.probe(BigInt(addr), write) >= 0 ? 'hit' : 'never';
  }

  /**
   * A write that first touches a page right after a populated one (a buffer filled in order)
   * populates the next FILL_AHEAD pages of the mapping too, so that such a loop leaves once per
   * 16 pages instead of at every page (a 256 MiB buffer touched a page at a time: 65,536 exits).
   * Linux itself populates ahead of a touch: a transparent huge page is 512 pages. Only anonymous
   * private writable mappings (no file to read, nothing another process sees); untouched pages
   * elsewhere stay untouched, so a fault on one still says "not present".
   */
  private populateAhead(a: number): void {
    const page = a - (a % PAGE_SIZE);
    const r = this.as.regionAt(page);
    if (!r || r.file || r.shared || (r.prot & PROT_WRITE) === 0 || page === r.start || !this.as.isPopulated(page - PAGE_SIZE)) return;
    for (let k = 1; k <= FILL_AHEAD; k++) {
      const p = page + k * PAGE_SIZE;
      if (p >= r.end || this.as.isPopulated(p)) return;
      this.as.frameOf(p);
    }
  }

  /**
   * Fills the TLB for the pages after `a`'s, up to FILL_AHEAD, that its mapping has populated
   * already (a loop walking memory again after a flush leaves once per 16 pages, not at every one).
   * Untouched pages stay untouched: a fault on one must still say "not present", as on Linux.
   */
  private fillAhead(a: number): void {
    const r = this.as.regionAt(a);
    if (!r || (r.prot & Access.Read) === 0) return;
    const page = a - (a % PAGE_SIZE);
    for (let k = 1; k <= FILL_AHEAD; k++) {
      const p = page + k * PAGE_SIZE;
      if (p >= r.end || !this.as.isPopulated(p)) return;
      this.fill(p);
    }
  }

  hostAddr(a: number, write: boolean, _len: number): number {
    const hit = this.tlb.probe(BigInt(a), write);
    if (hit >= 0) return hit;
    const h = this.as.translate(a, write ? Access.Write : Access.Read);
    const page = a - (a % PAGE_SIZE);
    if (write && this.as.code.has(page / PAGE_SIZE)) this.as.code.written(page);
    this.fill(a);
    return h;
  }

  // ---- code ----------------------------------------------------------------------------------

  /** Instruction bytes from executable regions; their pages become code pages. */
  fetch(addr: number, len: number, _mode: Mode): { bytes: Uint8Array; pages: number[] } {
    const out = new Uint8Array(len);
    const pages: number[] = [];
    let a = addr;
    let total = 0;
    while (total < len) {
      const r = this.as.regionAt(a);
      if (!r || (r.prot & PROT_EXEC) === 0) {
        if (total === 0) this.fetchFault(BigInt(addr));
        break;
      }
      const n = Math.min(len - total, PAGE_SIZE - (a % PAGE_SIZE));
      const page = a - (a % PAGE_SIZE);
      const h = this.as.frameOf(page) + (a % PAGE_SIZE);
      out.set(this.frames.u8.subarray(h, h + n), total);
      const vpn = page / PAGE_SIZE;
      pages.push(vpn);
      if (!this.as.code.has(vpn)) {
        // Writes to the page must reach the slow path from now on, which drops its translations.
        this.codePages.add(vpn, vpn);
        this.tlb.dropWrite(page);
      }
      total += n;
      a += n;
    }
    return { bytes: total === len ? out : out.subarray(0, total), pages };
  }

  fetchFault(addr: bigint): never {
    const a = Number(addr);
    throw new GuestFault(a, Access.Exec, this.as.regionAt(a) ? SEGV_ACCERR : SEGV_MAPERR);
  }

  translationMode(): Mode {
    return Mode.Linux;
  }

  readonly watching = false;
  readonly fpuOff = false;

  // ---- events ----------------------------------------------------------------------------------

  /** Pending signals act on every return to the guest (after a syscall, each exit). */
  beforeRun(budget: number): number {
    const sigs = this.signals;
    if (sigs !== undefined && sigs.hasWork()) sigs.deliver();
    return budget;
  }

  afterRun(): void {}

  /** The signal Linux sends for the exception, to a handler or by its default action. */
  deliver(x: GuestException): void {
    deliverException(x, this.cpu, this.as, this.signals, () => {
      const rip = Number(x.rip);
      let bytes = '';
      try { bytes = [...this.as.read(rip, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' '); } catch { /* unreadable */ }
      const why = this.untranslated(rip);
      return why ? `${why}; bytes ${bytes}` : `bytes ${bytes}`;
    });
  }
}
