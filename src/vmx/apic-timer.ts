/**
 * The local APIC timer of the virtual CPU, programmed through x2APIC MSRs (SDM vol. 3, 11.5.4):
 * LVT timer (vector, mask, one-shot/periodic), initial count, current count, divide
 * configuration, EOI. It counts at the virtual TSC's rate (1 GHz, see usm.ts TSC_HZ) divided by
 * the divide configuration. An expired timer raises its vector, delivered by the dispatcher at
 * the next instruction boundary with RFLAGS.IF set; a new one waits until EOI (in service).
 */
import { MSR } from './usm-state.js';

const LVT_MASKED = 1 << 16;
const LVT_PERIODIC = 1 << 17;

/** TDCR value -> divisor (bits 0, 1 and 3). */
function divisor(tdcr: number): number {
  const code = (tdcr & 3) | ((tdcr >> 1) & 4);
  return code === 7 ? 1 : 2 << code;
}

export class ApicTimer {
  lvt = LVT_MASKED;
  initial = 0n;
  tdcr = 0;
  /** TSC when the current count was (re)loaded. */
  private start = 0n;
  /** TSC at which the timer next fires (-1 = not armed). */
  deadline = -1n;
  /** An interrupt has fired and waits to be delivered. */
  pending = false;
  /** Delivered and not yet acknowledged by EOI. */
  inService = false;
  /** Interrupts fired (statistics, tests). */
  fired = 0;

  constructor(private readonly now: () => bigint) {}

  get vector(): number {
    return this.lvt & 0xff;
  }

  private get period(): bigint {
    return this.initial * BigInt(divisor(this.tdcr));
  }

  private arm(): void {
    this.start = this.now();
    this.deadline = this.initial > 0n ? this.start + this.period : -1n;
  }

  /** Moves time forward: marks the interrupt pending if the deadline passed. */
  poll(): void {
    if (this.deadline < 0n) return;
    const t = this.now();
    if (t < this.deadline) return;
    if (!(this.lvt & LVT_MASKED)) {
      this.pending = true;
      this.fired++;
    }
    if (this.lvt & LVT_PERIODIC) {
      const p = this.period;
      // Skip periods that passed while nobody looked (one interrupt for them, as a real APIC).
      const missed = (t - this.deadline) / p;
      this.start = this.deadline + missed * p;
      this.deadline = this.start + p;
    } else {
      this.deadline = -1n;
    }
  }

  /** Whether an interrupt can be delivered now (the caller checks IF). */
  deliverable(): boolean {
    this.poll();
    return this.pending && !this.inService;
  }

  /** The dispatcher delivered the pending interrupt. */
  taken(): void {
    this.pending = false;
    this.inService = true;
  }

  /** Nanoseconds until the next expiry, or -1 if the timer cannot fire. */
  untilNext(): bigint {
    if (this.deadline < 0n || this.lvt & LVT_MASKED) return -1n;
    const d = this.deadline - this.now();
    return d > 0n ? d : 0n;
  }

  rdmsr(n: number): bigint | undefined {
    switch (n) {
      case MSR.X2APIC_LVT_TIMER: return BigInt(this.lvt);
      case MSR.X2APIC_TMICT: return this.initial;
      case MSR.X2APIC_TMCCT: {
        if (this.deadline < 0n || this.initial === 0n) return 0n;
        const left = (this.deadline - this.now()) / BigInt(divisor(this.tdcr));
        return left > 0n ? left : 0n;
      }
      case MSR.X2APIC_TDCR: return BigInt(this.tdcr);
      case MSR.X2APIC_TPR: case MSR.X2APIC_SVR: return n === MSR.X2APIC_SVR ? 0x1ffn : 0n;
      default: return undefined;
    }
  }

  wrmsr(n: number, v: bigint): boolean {
    switch (n) {
      case MSR.X2APIC_LVT_TIMER:
        this.lvt = Number(v & 0x700ffn);
        return true;
      case MSR.X2APIC_TMICT:
        this.initial = v & 0xffff_ffffn;
        this.arm();
        return true;
      case MSR.X2APIC_TDCR:
        this.tdcr = Number(v & 0xbn);
        return true;
      case MSR.X2APIC_EOI:
        this.inService = false;
        return true;
      case MSR.X2APIC_TPR: case MSR.X2APIC_SVR:
        return true;
      default:
        return false;
    }
  }
}
