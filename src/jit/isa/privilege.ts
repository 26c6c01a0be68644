import type { Emitter, JsEnv } from '../emitter.js';
import type { Insn, Operand } from '../../decoder/ir.js';
import { Vector } from '../../core/exits.js';
import { CPU, isUserMode, Mode } from '../../core/layout.js';
import type { InsnDef, InsnSpec } from './table.js';
import type { EmitFn } from './types.js';

/**
 * Choosing an instruction's translation from its table entry and the translation's inputs: the
 * mode (Linux, USM CPL0/CPL3) and the SSE floating-point flavour. Privilege is decided here, at
 * translation time, from the entry's facts (`usm`, `cpl0`), so CPL3 code never reaches a handler
 * of a privileged instruction.
 */

/**
 * A privileged (or privilege-changing) instruction: `emit` in Linux mode (usually #GP); in USM
 * modes the TypeScript handler of vmx/privileged.ts at CPL0, and at CPL3 too unless `cpl0`.
 */
export const privileged = (emit: EmitFn, facts: Omit<InsnSpec, 'emit' | 'usm'> = {}): InsnSpec =>
  ({ emit, usm: true, ...facts });
/** Privileged, and #GP (or `cpl3Fault`) at CPL3. */
export const cpl0 = (emit: EmitFn, facts: Omit<InsnSpec, 'emit' | 'usm' | 'cpl0'> = {}): InsnSpec =>
  privileged(emit, { cpl0: true, ...facts });

/** The facts privilege needs (a table entry, or the mov-to-CR/DR form of mov). */
export type PrivilegeFacts = Pick<InsnDef, 'cpl0' | 'cpl3Fault' | 'ends'>;

/** Emits `i` as its table entry `def` says for this emitter's mode and `env`'s FP flavour. */
export function emitInsn(def: InsnDef, e: Emitter, i: Insn, env: JsEnv): void {
  // USM CR0.TS: x87/SSE instructions fault so the supervisor can switch FPU state lazily (wait
  // too: CR0.MP is always set in USM mode). The key changes with TS, so this costs nothing otherwise.
  if (def.fpu && e.host.fpuOff) { e.raise(Vector.NM); return; }
  if (def.usm && e.host.mode !== Mode.Linux) { emitPrivileged(def, e, i, env); return; }
  const emit = def.precise && e.host.preciseFp ? def.precise : def.emit;
  emit(e, i, env);
}

/**
 * USM modes: a privileged instruction faults at CPL3; otherwise it runs in TypeScript
 * (vmx/privileged.ts) through env.privileged, a memory operand's address passed in CPU.scratch.
 */
export function emitPrivileged(facts: PrivilegeFacts, e: Emitter, i: Insn, env: JsEnv): void {
  if (facts.cpl0 && isUserMode(e.host.mode)) { e.raise(facts.cpl3Fault ?? Vector.GP); return; }
  if (e.usmFast && emitFast(e, i)) return;
  const m = i.ops.find((o) => o.kind === 'mem');
  if (i.op === 'invlpg' && e.usmFast && m && m.kind === 'mem') {
    // Done in Wasm unless translated code may come from the page (vmx/usm-fast): then TypeScript.
    const a = e.ea(m);
    e.f.get(e.cpu).get(a).call_rt(e.rt.usmInvlpg).if_();
    e.free64(a);
    emitJsPrivileged(facts, e, i, env, m);
    e.f.end();
    return;
  }
  emitJsPrivileged(facts, e, i, env, m);
}

function emitJsPrivileged(facts: PrivilegeFacts, e: Emitter, i: Insn, env: JsEnv, m: Operand | undefined): void {
  if (m && m.kind === 'mem') {
    const a = e.ea(m);
    e.st64(CPU.scratch, a);
    e.free64(a);
  }
  const run = env.privileged!;
  e.callJs((base) => run(i, base), false, 0xffff, false, true);
  // A block-ending instruction whose handler returned -1 (vmcall) continues at the next
  // instruction like any block end.
  if (facts.ends) e.exitTo(i.addr + i.len);
}

/** Control registers whose value sits in the CPU block (core/layout.ts), by CR number. */
const CR_FIELD: Record<number, number> = { 0: CPU.cr0, 2: CPU.cr2, 3: CPU.cr3, 4: CPU.cr4 };

/**
 * The privileged instructions a supervisor runs on every trap, in Wasm (vmx/usm-fast): reads of
 * CR0/CR2/CR3/CR4 and swapgs inline; iretq and syscall through the fast transfer, with the
 * TypeScript handler after it for what the fast path leaves alone. True if fully emitted.
 */
function emitFast(e: Emitter, i: Insn): boolean {
  const f = e.f;
  switch (i.op) {
    case 'mov': {
      const d = i.ops[0], s = i.ops[1];
      if (d.kind !== 'reg' || d.file !== 'gpr' || s.kind !== 'reg' || s.file !== 'cr' || CR_FIELD[s.n] === undefined) return false;
      const t = e.tmp64();
      e.ld64(CR_FIELD[s.n]);
      f.set(t);
      e.setReg({ ...d, size: 8 }, t);
      e.free64(t);
      return true;
    }
    case 'swapgs': {
      const t = e.tmp64();
      e.ld64(CPU.gsBase);
      f.set(t);
      f.get(e.cpu).get(e.cpu).i64_load(CPU.kernelGsBase).i64_store(CPU.gsBase);
      e.st64(CPU.kernelGsBase, t);
      e.free64(t);
      return true;
    }
    case 'iretq':
      e.usmTransfer(e.rt.usmIret);
      return false;
    case 'syscall':
      e.usmTransfer(e.rt.usmSyscall, () => { f.i64(i.addr + i.len); });
      return false;
    default:
      return false;
  }
}
