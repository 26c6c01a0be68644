import type { Emitter, JsEnv } from '../emitter.js';
import type { Insn } from '../../decoder/ir.js';
import type { Family } from './types.js';
import { Vector } from '../../core/exits.js';
import { CPU, isUserMode, Mode } from '../../core/layout.js';
import type { EmitFn } from './types.js';

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

/** Privileged at CPL3 in USM mode (and in Linux mode): #GP(0), decided at translation time. */
const CPL0_ONLY = new Set(['mov', 'rdmsr', 'wrmsr', 'lgdt', 'lidt', 'ltr', 'lldt', 'invlpg', 'invpcid', 'swapgs',
  'cli', 'sti', 'hlt', 'wbinvd', 'invd', 'clts', 'rdpmc', 'sysretq']);
/** Instructions that end a block when they run in TypeScript (they may change rip or the mode). */
const ENDS_BLOCK = new Set(['iretq', 'sysretq', 'syscall', 'int', 'int3', 'into', 'hlt', 'vmcall']);

/**
 * In USM mode the instruction runs in TypeScript (vmx/privileged.ts) through env.privileged; a
 * memory operand's address is computed here and passed in CPU.scratch.
 */
function viaUsm(e: Emitter, i: Insn, env: JsEnv): void {
  const m = i.ops.find((o) => o.kind === 'mem');
  if (m && m.kind === 'mem') {
    const a = e.ea(m);
    e.st64(CPU.scratch, a);
    e.free64(a);
  }
  const run = env.privileged!;
  e.callJs((base) => run(i, base), false, 0xffff, false, true);
  // A terminator that returned -1 (vmcall) continues at the next instruction like any block end.
  if (ENDS_BLOCK.has(i.op)) e.exitTo(i.addr + i.len);
}

/**
 * An instruction whose meaning depends on the translation mode: `linux` in Linux mode, the
 * TypeScript handler at CPL0, #GP (privileged) or #UD (vmcall) or the handler at CPL3.
 */
export function byMode(linux: EmitFn): EmitFn {
  return (e, i, env) => {
    const mode = e.host.mode;
    if (mode === Mode.Linux) return linux(e, i, env);
    if (isUserMode(mode)) {
      if (i.op === 'vmcall') return e.raise(Vector.UD);
      if (CPL0_ONLY.has(i.op)) return e.raise(Vector.GP);
    }
    viaUsm(e, i, env);
  };
}

export const system: Family = {
  nop: nothing, endbr64: nothing, endbr32: nothing, pause: nothing,
  lfence: nothing, mfence: nothing, sfence: nothing,
  prefetcht0: nothing, prefetcht1: nothing, prefetcht2: nothing, prefetchnta: nothing, prefetchw: nothing, prefetch: nothing,
  clflush: nothing, clflushopt: nothing,
  cpuid,
  rdtsc: rdtsc(false),
  rdtscp: byMode(rdtsc(true)),
  // Privileged: #GP in Linux mode and at CPL3; vmx/privileged.ts gives them meaning at CPL0.
  cli: byMode(gp), sti: byMode(gp), lgdt: byMode(gp), lidt: byMode(gp), ltr: byMode(gp), lldt: byMode(gp),
  invlpg: byMode(gp), invpcid: byMode(gp), wrmsr: byMode(gp), rdmsr: byMode(gp), wbinvd: byMode(gp),
  invd: byMode(gp), clts: byMode(gp), swapgs: byMode(gp), sysretq: byMode(gp), iretq: byMode(gp), rdpmc: byMode(gp),
  // sgdt/sidt/str/sldt: Linux enables UMIP, so user mode gets #GP; USM (no UMIP) runs them.
  sgdt: byMode(gp), sidt: byMode(gp), str: byMode(gp), sldt: byMode(gp),
  vmcall: byMode((e) => e.raise(Vector.UD)),
  int: byMode((e) => e.raise(Vector.GP)),
  into: byMode((e) => e.raise(Vector.UD)),
  // rdfsbase family is only legal with CR4.FSGSBASE, which Linux sets: allow them.
  rdfsbase: (e, i) => { const v = e.tmp64(); e.ld64(CPU.fsBase); e.f.set(v); e.write(i.ops[0], v); e.free64(v); },
  rdgsbase: (e, i) => { const v = e.tmp64(); e.ld64(CPU.gsBase); e.f.set(v); e.write(i.ops[0], v); e.free64(v); },
  wrfsbase: (e, i) => { const v = e.readL(i.ops[0]); e.st64(CPU.fsBase, v); e.free64(v); },
  wrgsbase: (e, i) => { const v = e.readL(i.ops[0]); e.st64(CPU.gsBase, v); e.free64(v); },
};
