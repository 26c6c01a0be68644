import { RSP } from '../../core/layout.js';
import type { Emitter } from '../emitter.js';
import type { Insn } from '../../decoder/ir.js';
import type { Family } from './types.js';
import { COND_READS, perCondition } from './types.js';
import { pop, push, readRflags } from './move.js';
import { Exit, Vector } from '../../core/exits.js';
import { F } from '../../core/rflags.js';
import { FLAGS_NONE } from './table.js';
import { cpl0, privileged } from './privilege.js';
import type { InsnSpec } from './table.js';

/** Control transfer: jmp jcc call ret loop jrcxz, and the instructions that stop a block. */

const next = (i: Insn) => i.addr + i.len;

function target(i: Insn): number {
  const t = i.ops[0];
  return t && t.kind === 'imm' ? Number(BigInt.asUintN(64, t.value)) : -1;
}

function jcc(cc: number): InsnSpec {
  return { branch: 'jcc', flags: { reads: COND_READS[cc], writes: 0 }, emit: (e: Emitter, i: Insn) => {
    e.cond(cc);
    e.f.if_();
    e.exitTo(target(i));
    e.f.end();
    e.exitTo(next(i));
  } };
}

/** loop/loope/loopne/jrcxz: rcx-driven branches (`cc` adds a ZF condition for loope/loopne). */
function rcxBranch(kind: 'loop' | 'loope' | 'loopne' | 'jrcxz' | 'jecxz'): InsnSpec {
  const flags = kind === 'loope' || kind === 'loopne' ? { reads: F.ZF, writes: 0 } : FLAGS_NONE;
  return { branch: 'jcc', flags, emit: (e: Emitter, i: Insn) => {
    const f = e.f;
    const c = e.tmp64();
    e.gpr(1);
    if (kind === 'jecxz') f.i64(0xffffffff).i64_and();
    f.set(c);
    if (kind.startsWith('loop')) {
      f.get(c).i64(1).i64_sub().set(c);
      e.setGpr(1, c);
      f.get(c).i64_eqz().i32_eqz();
      if (kind === 'loope') { e.cond(4); f.i32_and(); }
      if (kind === 'loopne') { e.cond(5); f.i32_and(); }
    } else {
      f.get(c).i64_eqz();
    }
    f.if_();
    e.exitTo(target(i));
    f.end();
    e.exitTo(next(i));
    e.free64(c);
  } };
}

export const control: Family = {
  jmp: { branch: 'jmp', flags: FLAGS_NONE, emit: (e, i) => {
    const t = target(i);
    if (t >= 0) { e.exitTo(t); return; }
    const v = e.readL(i.ops[0], 8);
    e.exitToLocal(v);
  } },
  call: { branch: 'call', flags: FLAGS_NONE, emit: (e, i) => {
    const f = e.f;
    const t = target(i);
    // The target is read before the push: `call [rsp+8]` means the old rsp.
    const dest = t >= 0 ? -1 : e.readL(i.ops[0], 8);
    const ret = e.tmp64();
    f.i64(next(i)).set(ret);
    push(e, ret);
    if (dest < 0) e.exitTo(t);
    else e.exitToLocal(dest);
  } },
  ret: { branch: 'ret', flags: FLAGS_NONE, emit: (e, i) => {
    const f = e.f;
    const v = pop(e);
    const imm = i.ops[0];
    if (imm && imm.kind === 'imm' && imm.value !== 0n) {
      const sp = e.tmp64();
      e.gpr(RSP);
      f.i64(imm.value).i64_add().set(sp);
      e.setGpr(RSP, sp);
    }
    e.exitToLocal(v);
  } },
  ...perCondition('j', jcc),
  loop: rcxBranch('loop'),
  loope: rcxBranch('loope'),
  loopne: rcxBranch('loopne'),
  jrcxz: rcxBranch('jrcxz'),
  jecxz: rcxBranch('jecxz'),
  // SDM SYSCALL: rcx = the next rip, r11 = rflags (Linux returns with both as the CPU set them).
  // Reads RFLAGS (the default flag use, FLAGS_ANY, keeps them live).
  syscall: privileged((e, i) => {
    const v = e.tmp64();
    e.f.i64(next(i)).set(v); e.setGpr(1, v);
    readRflags(e); e.f.set(v); e.setGpr(11, v);
    e.free64(v);
    e.exitWith(Exit.Syscall, next(i));
  }, { branch: 'exit' }),
  ud2: { branch: 'stop', emit: (e) => e.raise(Vector.UD) },
  ud1: { branch: 'stop', emit: (e) => e.raise(Vector.UD) },
  ud0: { branch: 'stop', emit: (e) => e.raise(Vector.UD) },
  // #BP is a trap: the reported rip is after the int3.
  int3: privileged((e) => e.raise(Vector.BP), { branch: 'stop' }),
  hlt: cpl0((e) => e.raise(Vector.GP), { branch: 'stop' }),
};
