import type { Emitter, JsEnv } from '../emitter.js';
import type { Insn } from '../../decoder/ir.js';
import type { Family } from './types.js';
import { Vector } from '../../vmx/exits.js';
import { CPU } from '../layout.js';

/** cpuid, rdtsc, fences, hints and no-ops; privileged instructions raise #GP in Linux mode. */

const nothing = () => {};
/** rax rcx rdx rbx: what cpuid and rdtsc(p) write. */
const REGS_ABCD = 0b1111;

function cpuid(e: Emitter, _i: Insn, env: JsEnv): void {
  e.callJs((base) => {
    const cpu = env.cpu(base);
    const [a, b, c, d] = env.cpuid(Number(cpu.get(0) & 0xffff_ffffn), Number(cpu.get(1) & 0xffff_ffffn));
    cpu.set(0, BigInt(a >>> 0));
    cpu.set(3, BigInt(b >>> 0));
    cpu.set(1, BigInt(c >>> 0));
    cpu.set(2, BigInt(d >>> 0));
    return -1;
  }, true, REGS_ABCD);
}

function rdtsc(withAux: boolean) {
  return (e: Emitter, _i: Insn, env: JsEnv) => {
    e.callJs((base) => {
      const cpu = env.cpu(base);
      const t = env.rdtsc();
      cpu.set(0, t & 0xffff_ffffn);
      cpu.set(2, (t >> 32n) & 0xffff_ffffn);
      if (withAux) cpu.set(1, 0n);
      return -1;
    }, true, REGS_ABCD);
  };
}

const gp = (e: Emitter) => e.raise(Vector.GP);

export const system: Family = {
  nop: nothing, endbr64: nothing, endbr32: nothing, pause: nothing,
  lfence: nothing, mfence: nothing, sfence: nothing,
  prefetcht0: nothing, prefetcht1: nothing, prefetcht2: nothing, prefetchnta: nothing, prefetchw: nothing, prefetch: nothing,
  clflush: nothing, clflushopt: nothing,
  cpuid,
  rdtsc: rdtsc(false),
  rdtscp: rdtsc(true),
  // Privileged at CPL3 (USM mode gives them meaning at CPL0 in a later module).
  cli: gp, sti: gp, lgdt: gp, lidt: gp, ltr: gp, invlpg: gp, wrmsr: gp, rdmsr: gp, wbinvd: gp, clts: gp,
  swapgs: gp, sysretq: gp, iretq: gp,
  vmcall: (e) => e.raise(Vector.UD),
  int: (e) => e.raise(Vector.GP),
  // rdfsbase family is only legal with CR4.FSGSBASE, which Linux sets: allow them.
  rdfsbase: (e, i) => { const v = e.tmp64(); e.ld64(CPU.fsBase); e.f.set(v); e.write(i.ops[0], v); e.free64(v); },
  rdgsbase: (e, i) => { const v = e.tmp64(); e.ld64(CPU.gsBase); e.f.set(v); e.write(i.ops[0], v); e.free64(v); },
  wrfsbase: (e, i) => { const v = e.readL(i.ops[0]); e.st64(CPU.fsBase, v); e.free64(v); },
  wrgsbase: (e, i) => { const v = e.readL(i.ops[0]); e.st64(CPU.gsBase, v); e.free64(v); },
};
