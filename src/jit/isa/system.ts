import type { Emitter, JsEnv } from '../emitter.js';
import type { Insn } from '../../decoder/ir.js';
import type { Family } from './types.js';
import { cpl0, privileged } from './privilege.js';
import { noFlags } from './table.js';
import { Vector } from '../../core/exits.js';
import { CPU } from '../../core/layout.js';

/** cpuid, rdtsc, fences, hints and no-ops; privileged instructions raise #GP in Linux mode. */

const nothing = noFlags(() => {});
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
  // USM: vmx/privileged.ts (#GP at CPL3 with CR4.TSD, a run-time check).
  rdtsc: privileged(rdtsc(false)),
  rdtscp: privileged(rdtsc(true)),
  // Privileged: #GP in Linux mode and at CPL3; vmx/privileged.ts gives them meaning at CPL0.
  cli: cpl0(gp), sti: cpl0(gp), lgdt: cpl0(gp), lidt: cpl0(gp), ltr: cpl0(gp), lldt: cpl0(gp),
  invlpg: cpl0(gp), invpcid: cpl0(gp), wrmsr: cpl0(gp), rdmsr: cpl0(gp), wbinvd: cpl0(gp),
  invd: cpl0(gp), clts: cpl0(gp), swapgs: cpl0(gp), rdpmc: cpl0(gp),
  sysretq: cpl0(gp, { branch: 'stop' }),
  // iretq at CPL3 is the handler's business (a return to the same level is legal).
  iretq: privileged(gp, { branch: 'stop' }),
  // sgdt/sidt/str/sldt: Linux enables UMIP, so user mode gets #GP; USM (no UMIP) runs them.
  sgdt: privileged(gp), sidt: privileged(gp), str: privileged(gp), sldt: privileged(gp),
  // vmcall: the USM guest's system call at CPL0; #UD at CPL3 and in Linux mode.
  vmcall: cpl0((e) => e.raise(Vector.UD), { branch: 'stop', cpl3Fault: Vector.UD }),
  int: privileged((e) => e.raise(Vector.GP), { branch: 'stop' }),
  into: privileged((e) => e.raise(Vector.UD), { branch: 'stop' }),
  // rdfsbase family is only legal with CR4.FSGSBASE, which Linux sets: allow them.
  rdfsbase: (e, i) => { const v = e.tmp64(); e.ld64(CPU.fsBase); e.f.set(v); e.write(i.ops[0], v); e.free64(v); },
  rdgsbase: (e, i) => { const v = e.tmp64(); e.ld64(CPU.gsBase); e.f.set(v); e.write(i.ops[0], v); e.free64(v); },
  wrfsbase: (e, i) => { const v = e.readL(i.ops[0]); e.st64(CPU.fsBase, v); e.free64(v); },
  wrgsbase: (e, i) => { const v = e.readL(i.ops[0]); e.st64(CPU.gsBase, v); e.free64(v); },
};
