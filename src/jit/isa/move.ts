import { CC } from '../flags.js';
import { F } from '../../core/rflags.js';

import { CPU, Mode, RSP } from '../../core/layout.js';
import type { Emitter, JsEnv } from '../emitter.js';
import { emitPrivileged, type PrivilegeFacts } from './privilege.js';
import { killsFlags, noFlags } from './table.js';
import { Unsupported } from '../emitter.js';
import type { Insn, Operand, RegOperand } from '../../decoder/ir.js';
import type { EmitFn, Family } from './types.js';
import { perCondition } from './types.js';
import { truncate } from './alu.js';
import { T } from '../wasm/encoder.js';
import { Exit, Vector } from '../../core/exits.js';

/** Data movement: mov movzx movsx lea xchg cmov setcc push pop bswap sign extensions, flag moves. */

function signExtend(e: Emitter, size: number): void {
  const f = e.f;
  if (size === 1) f.i64_extend8_s();
  else if (size === 2) f.i64_extend16_s();
  else if (size === 4) f.i64_extend32_s();
}

/** push of local `v` (size bytes): stores below rsp, then moves rsp (a faulting store leaves rsp). */
export function push(e: Emitter, v: number, size = 8): void {
  const f = e.f;
  const sp = e.tmp64();
  e.gpr(RSP);
  f.i64(size).i64_sub().set(sp);
  e.store(sp, size, v);
  e.setGpr(RSP, sp);
  e.free64(sp);
}

/**
 * A run of consecutive `push r64` or `pop r64` (none of rsp) starting at insns[k]: how many, as
 * n > 0 for pushes and -n for pops (0 for fewer than two). A function's prologue pushes its
 * callee-saved registers, its epilogue pops them.
 */
export function stackRun(insns: readonly Insn[], k: number): number {
  const kind = (i: Insn): 'push' | 'pop' | null => {
    if (i.op !== 'push' && i.op !== 'pop') return null;
    const o = i.ops[0];
    return o && o.kind === 'reg' && o.file === 'gpr' && o.size === 8 && o.n !== RSP ? i.op : null;
  };
  const first = kind(insns[k]);
  if (!first) return 0;
  let n = 1;
  while (k + n < insns.length && n < 8 && kind(insns[k + n]) === first) n++;
  return n < 2 ? 0 : first === 'push' ? n : -n;
}

/**
 * The fast path of a stack run (stackRun): one TLB probe for all its slots, then the stores or
 * loads and one rsp update. Pushes i32 "taken" (0: the range missed or crosses a page, and the
 * caller emits the instructions one by one instead, each with its own probe and miss).
 */
export function stackRunFast(e: Emitter, run: readonly Insn[], push: boolean): void {
  const f = e.f;
  const n = run.length;
  const sp = e.tmp64(), lo = e.tmp64(), ent = e.tmp32(), base = e.tmp32();
  e.gpr(RSP);
  f.set(sp);
  if (push) f.get(sp).i64(8 * n).i64_sub().set(lo);
  else f.get(sp).set(lo);
  e.probeRange(lo, () => { f.get(lo).i64(8 * n - 1).i64_add(); }, push, ent);
  f.if_(T.i32);
  e.hostAddr(lo, ent);
  f.set(base);
  for (let k = 0; k < n; k++) {
    const r = run[k].ops[0] as RegOperand;
    if (push) {
      // The k-th push writes the slot 8 (k + 1) below the old rsp.
      f.get(base);
      e.gpr(r.n);
      f.i64_store(8 * (n - 1 - k));
    } else {
      const v = e.tmp64();
      f.get(base).i64_load(8 * k).set(v);
      e.setGpr(r.n, v);
      e.free64(v);
    }
  }
  if (push) e.setGpr(RSP, lo);
  else { f.get(sp).i64(8 * n).i64_add().set(sp); e.setGpr(RSP, sp); }
  f.i32(1);
  f.else_();
  f.i32(0);
  f.end();
  e.free64(sp, lo);
  e.free32(ent, base);
}

/**
 * pop into a new local (caller frees); rsp is updated, after `first(v)` if given (a store of the
 * value that must find rsp as it was, should it fault or miss and run the instruction again).
 */
export function pop(e: Emitter, size = 8, first?: (v: number) => void): number {
  const f = e.f;
  const sp = e.tmp64();
  const v = e.tmp64();
  e.gpr(RSP);
  f.set(sp);
  e.load(sp, size);
  f.set(v);
  first?.(v);
  f.get(sp).i64(size).i64_add().set(sp);
  e.setGpr(RSP, sp);
  e.free64(sp);
  return v;
}

function stackSize(op: Operand | undefined): number {
  return op && op.size === 2 ? 2 : 8;
}

/**
 * mov to/from a control or debug register: the privileged form of the MOV id (#GP in Linux mode
 * and at CPL3, vmx/privileged.ts at CPL0).
 */
const MOV_SPECIAL: PrivilegeFacts = { cpl0: true, ends: false };
const movSpecial: EmitFn = (e, i, env) =>
  (e.host.mode === Mode.Linux ? e.raise(Vector.GP) : emitPrivileged(MOV_SPECIAL, e, i, env));

function mov(e: Emitter, i: Insn, env: JsEnv): void {
  const d = i.ops[0], s = i.ops[1];
  const special = (o: typeof d) => o.kind === 'reg' && (o.file === 'cr' || o.file === 'dr');
  if (special(d) || special(s)) return movSpecial(e, i, env);
  if (s.kind === 'reg' && s.file === 'seg') return movFromSeg(e, d, s.n);
  if (d.kind === 'reg' && d.file === 'seg') return movToSeg(e, i, s, d.n);
  if (d.kind === 'reg' && d.file !== 'gpr' && d.file !== 'gprh') throw new Unsupported(`mov to ${d.name}`);
  if (s.kind === 'reg' && s.file !== 'gpr' && s.file !== 'gprh') throw new Unsupported(`mov from ${s.name}`);
  const v = e.readL(s, d.size);
  e.write(d, v);
  e.free64(v);
}

/** Segment numbers (decoder order es cs ss ds fs gs). */
const SEG_CS = 1, SEG_SS = 2;

/** mov from a segment register: CS and SS are real (CPL = CS & 3); the others read as 0 (64-bit Linux). */
function movFromSeg(e: Emitter, d: Operand, n: number): void {
  const f = e.f;
  const v = e.tmp64();
  if (n === SEG_CS || n === SEG_SS) f.get(e.cpu).i64_load32_u(n === SEG_CS ? CPU.cs : CPU.ss);
  else f.i64(0);
  f.set(v);
  // A register destination of 32/64 bits gets the zero-extended selector; 16 bits keeps the rest.
  e.write(d, v, d.kind === 'reg' && d.size >= 4 ? d.size : 2);
  e.free64(v);
}

/** mov to DS/ES/SS: flat segments in 64-bit mode, so only SS's selector is kept (iretq frames). */
function movToSeg(e: Emitter, i: Insn, s: Operand, n: number): void {
  if (n === SEG_CS) return e.raise(Vector.UD);
  if (n !== SEG_SS && n !== 0 && n !== 3) throw new Unsupported(`mov to ${['es', 'cs', 'ss', 'ds', 'fs', 'gs'][n]} (its base would change)`);
  const v = e.readL(s, 2);
  if (n === SEG_SS) { e.f.get(e.cpu).get(v).i32_wrap_i64().i32_store(CPU.ss); }
  e.free64(v);
  void i;
}

function movx(signed: boolean) {
  return (e: Emitter, i: Insn) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    if (signed && s.kind === 'mem') {
      // One sign-extending load (movslq/movsbl...), not a load and an extension.
      const ea = e.ea(s);
      e.load(ea, s.size, false, true);
      e.free64(ea);
      truncate(f, d.size);
    } else if (signed && d.size === 4 && s.size < 4) {
      // movsx r32, r8/r16: in i32 (movsbl/movswl zero-extend the upper half; see alu.ts truncate).
      e.read(s);
      f.i32_wrap_i64();
      if (s.size === 1) f.i32_extend8_s(); else f.i32_extend16_s();
      f.i64_extend_i32_u();
    } else {
      e.read(s);
      if (signed) { signExtend(e, s.size); truncate(f, d.size); }
    }
    const v = e.tmp64();
    f.set(v);
    e.write(d, v);
    e.free64(v);
  };
}

function lea(e: Emitter, i: Insn): void {
  const d = i.ops[0], s = i.ops[1];
  if (s.kind !== 'mem') throw new Unsupported('lea without memory operand');
  if (d.size === 4 && d.kind === 'reg') {
    // A 32-bit result in i32 (TurboFan's leal zero-extends; see alu.ts truncate).
    const f = e.f;
    const r = e.tmp64();
    let first = true;
    const plus = () => { if (!first) f.i32_add(); first = false; };
    if (s.base >= 0) { e.gpr(s.base); f.i32_wrap_i64(); plus(); }
    if (s.index >= 0) {
      e.gpr(s.index); f.i32_wrap_i64();
      if (s.scale > 1) f.i32(Math.log2(s.scale)).i32_shl();
      plus();
    }
    if (s.disp !== 0n || first) { f.i32(Number(BigInt.asIntN(32, s.disp))); plus(); }
    f.i64_extend_i32_u().set(r);
    e.write(d, r);
    e.free64(r);
    return;
  }
  const ea = e.ea({ ...s, seg: null });
  e.write(d, ea);
  e.free64(ea);
}

function xchg(e: Emitter, i: Insn): void {
  const a = i.ops[0], b = i.ops[1];
  if (a.kind === 'reg' && b.kind === 'reg' && a.file === b.file && a.n === b.n && a.size === 8) return; // nop
  const f = e.f;
  if (a.kind === 'mem' || b.kind === 'mem') {
    const [m, r] = a.kind === 'mem' ? [a, b] : [b, a];
    const rv = e.readL(r);
    e.rmw(m, (mv) => {
      e.write(r, mv);
      const out = e.tmp64();
      f.get(rv).set(out);
      return out;
    });
    e.free64(rv);
    return;
  }
  const va = e.readL(a), vb = e.readL(b);
  e.write(a, vb);
  e.write(b, va);
  e.free64(va, vb);
}

function cmov(cc: number) {
  return (e: Emitter, i: Insn) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const src = e.readL(s);
    const dst = e.readL(d);
    const r = e.tmp64();
    f.get(src).get(dst);
    e.cond(cc);
    f.select().set(r);
    e.write(d, r); // always written: a 32-bit cmov zero-extends even when the condition is false
    e.free64(src, dst, r);
  };
}

function setcc(cc: number) {
  return (e: Emitter, i: Insn) => {
    const v = e.tmp64();
    e.cond(cc);
    e.f.i64_extend_i32_u().set(v);
    e.write(i.ops[0], v, 1);
    e.free64(v);
  };
}

function bswap(e: Emitter, i: Insn): void {
  const d = i.ops[0];
  const f = e.f;
  const a = e.readL(d);
  const r = e.tmp64();
  const n = d.size;
  f.i64(0).set(r);
  for (let k = 0; k < n; k++) {
    f.get(r).get(a).i64(8 * k).i64_shr_u().i64(0xff).i64_and().i64(8 * (n - 1 - k)).i64_shl().i64_or().set(r);
  }
  e.write(d, r);
  e.free64(a, r);
}

/** cbw/cwde/cdqe: sign-extend the low half of rax into the full operand. */
function widen(from: number, to: number) {
  return (e: Emitter) => {
    const f = e.f;
    const v = e.tmp64();
    e.gpr(0);
    signExtend(e, from);
    truncate(f, to);
    f.set(v);
    e.setReg({ kind: 'reg', file: 'gpr', n: 0, size: to, name: '' }, v);
    e.free64(v);
  };
}

/** cwd/cdq/cqo: rdx = sign of rax, at the operand size. */
function signToRdx(size: number) {
  return (e: Emitter) => {
    const f = e.f;
    const v = e.tmp64();
    e.gpr(0);
    signExtend(e, size);
    f.i64(63).i64_shr_s();
    truncate(f, size);
    f.set(v);
    e.setReg({ kind: 'reg', file: 'gpr', n: 2, size, name: '' }, v);
    e.free64(v);
  };
}

/** Pushes the full RFLAGS image: arithmetic flags from the lazy state plus the stored bits. */
export function readRflags(e: Emitter): void {
  const f = e.f;
  e.materialize();
  f.i64_extend_i32_u();
  e.ld64(CPU.rflags);
  f.i64_or();
}

/** RFLAGS bits the guest can change with popf at CPL3: the arithmetic ones, TF, DF, AC, ID. */
const POPF_MASK = 0x0025_4dd5;

function writeRflags(e: Emitter, v: number): void {
  const f = e.f;
  // At CPL0 (USM) popf may also change IF and IOPL.
  const mask = e.host.mode === Mode.Cpl0 || e.host.mode === Mode.Cpl0Step ? POPF_MASK | 0x3200 : POPF_MASK;
  f.get(v).i32_wrap_i64().i32(0x8d5).i32_and();
  e.setEflagsFromStack();
  f.get(e.cpu);
  e.ld64(CPU.rflags);
  f.i64(~mask).i64_and(); // keep the bits popf cannot change (IF, IOPL, bit 1)
  f.i64(~0x8d5 & mask).get(v).i64_and().i64_or();
  f.i64_store(CPU.rflags);
}

/** #GP from TypeScript (e.g. a misaligned cmpxchg16b operand). */
function raiseGP(cpu: import('../../core/cpu-state.js').CpuState, addr: number): number {
  cpu.rip = BigInt(addr);
  cpu.setU64(CPU.exitInsn, BigInt(addr));
  cpu.setU64(CPU.exitArg, BigInt(Vector.GP));
  return Exit.Exception;
}

export const move: Family = {
  mov: noFlags(mov), movabs: noFlags(mov),
  movzx: noFlags(movx(false)),
  movsx: noFlags(movx(true)),
  movsxd: noFlags(movx(true)),
  lea: noFlags(lea),
  xchg: noFlags(xchg),
  bswap: noFlags(bswap),
  cbw: noFlags(widen(1, 2)), cwde: noFlags(widen(2, 4)), cdqe: noFlags(widen(4, 8)),
  cwd: noFlags(signToRdx(2)), cdq: noFlags(signToRdx(4)), cqo: noFlags(signToRdx(8)),
  push: noFlags((e, i) => {
    const size = stackSize(i.ops[0]);
    const v = e.readL(i.ops[0], size);
    push(e, v, size);
    e.free64(v);
  }),
  pop: noFlags((e, i) => {
    const d = i.ops[0];
    if (d.kind === 'mem') {
      // rsp moves only after the store. An rsp-based destination is addressed with the
      // incremented rsp (SDM), so its displacement takes the increment.
      const size = stackSize(d);
      const dest = d.base === RSP ? { ...d, disp: d.disp + BigInt(size) } : d;
      e.free64(pop(e, size, (v) => e.write(dest, v)));
      return;
    }
    const v = pop(e, stackSize(d));
    e.write(d, v);
    e.free64(v);
  }),
  // xlatb: al = [rbx + al]
  xlatb: (e, i) => {
    const f = e.f;
    const ea = e.tmp64();
    e.gpr(3);
    e.getReg({ kind: 'reg', file: 'gpr', n: 0, size: 1, name: 'al' });
    f.i64_add();
    if (i.ops.some((o) => o.kind === 'mem' && o.addr32)) f.i64(0xffffffff).i64_and();
    f.set(ea);
    const v = e.tmp64();
    e.load(ea, 1);
    f.set(v);
    e.setReg({ kind: 'reg', file: 'gpr', n: 0, size: 1, name: 'al' }, v);
    e.free64(ea, v);
  },
  // enter size, level: push rbp, copy `level - 1` outer frame pointers, push the new frame pointer.
  // enter and leave change rsp and rbp only after their last memory access, so that one that
  // faults (or misses the TLB and runs again) finds them as they were.
  enter: (e, i) => {
    const f = e.f;
    const size = Number((i.ops[0] as { value: bigint }).value & 0xffffn);
    const level = Number((i.ops[1] as { value: bigint }).value & 0x1fn);
    const bp = e.tmp64(), frame = e.tmp64(), cur = e.tmp64(), t = e.tmp64();
    e.gpr(5); f.set(bp);
    e.gpr(RSP); f.i64(8).i64_sub().tee(frame).set(cur);
    e.store(cur, 8, bp);
    for (let k = 1; k < level; k++) {
      f.get(bp).i64(8).i64_sub().set(bp);
      e.load(bp, 8);
      f.set(t);
      f.get(cur).i64(8).i64_sub().set(cur);
      e.store(cur, 8, t);
    }
    if (level > 0) { f.get(cur).i64(8).i64_sub().set(cur); e.store(cur, 8, frame); }
    e.setGpr(5, frame);
    f.get(cur).i64(size).i64_sub().set(t);
    e.setGpr(RSP, t);
    e.free64(bp, frame, cur, t);
  },
  leave: (e) => {
    const f = e.f;
    const bp = e.tmp64(), v = e.tmp64();
    e.gpr(5);
    f.set(bp);
    e.load(bp, 8);
    f.set(v);
    f.get(bp).i64(8).i64_add().set(bp);
    e.setGpr(RSP, bp);
    e.setGpr(5, v);
    e.free64(bp, v);
  },
  xadd: killsFlags((e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const size = d.size;
    e.rmw(d, (a) => {
      const b = e.readL(s, size);
      const r = e.tmp64();
      f.get(a).get(b).i64_add();
      truncate(f, size);
      f.set(r);
      e.setFlags(CC.ADD, size, a, b, r);
      e.write(s, a);
      e.free64(b);
      return r;
    });
  }),
  cmpxchg: killsFlags((e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const size = d.size;
    const acc = { kind: 'reg', file: 'gpr', n: 0, size, name: '' } as const;
    const compare = (cur: number): number => {
      const a = e.readL(acc);
      const r = e.tmp64();
      f.get(a).get(cur).i64_sub();
      truncate(f, size);
      f.set(r);
      e.setFlags(CC.SUB, size, a, cur, r);
      const eq = e.tmp32();
      f.get(a).get(cur).i64_eq().set(eq);
      e.free64(a, r);
      return eq;
    };
    if (d.kind === 'mem') {
      // Memory: a locked read-modify-write; on failure the old value is written back.
      e.rmw(d, (cur) => {
        const eq = compare(cur);
        const out = e.tmp64();
        f.get(eq).if_();
        e.read(s, size);
        f.set(out);
        f.else_();
        f.get(cur).set(out);
        e.setReg(acc, cur);
        f.end();
        e.free32(eq);
        return out;
      });
      return;
    }
    // Register: on failure the destination is left alone (no 32-bit zero-extension), the
    // accumulator gets its value.
    const cur = e.readL(d);
    const eq = compare(cur);
    f.get(eq).if_();
    const v = e.readL(s, size);
    e.write(d, v);
    e.free64(v);
    f.else_();
    e.setReg(acc, cur);
    f.end();
    e.free64(cur);
    e.free32(eq);
  }),
  cmpxchg8b: (e, i) => {
    // edx:eax == m64 ? (m64 = ecx:ebx, ZF = 1) : (edx:eax = m64, ZF = 0); other flags kept.
    const f = e.f;
    const m = i.ops[0];
    if (m.kind !== 'mem') throw new Unsupported('cmpxchg8b register form');
    const ea = e.ea(m);
    const cur = e.tmp64(), expect = e.tmp64(), eq = e.tmp32();
    e.load(ea, 8);
    f.set(cur);
    e.gpr(2); f.i64(32).i64_shl(); e.gpr(0); f.i64(0xffffffff).i64_and().i64_or().set(expect);
    f.get(cur).get(expect).i64_eq().set(eq);
    const nv = e.tmp64();
    f.get(eq).if_();
    e.gpr(1); f.i64(32).i64_shl(); e.gpr(3); f.i64(0xffffffff).i64_and().i64_or().set(nv);
    f.else_();
    f.get(cur).set(nv);
    f.end();
    e.store(ea, 8, nv); // the store happens either way (locked read-modify-write)
    f.get(eq).i32_eqz().if_();
    e.setReg({ kind: 'reg', file: 'gpr', n: 0, size: 4, name: '' }, cur);
    f.get(cur).i64(32).i64_shr_u().set(nv);
    e.setReg({ kind: 'reg', file: 'gpr', n: 2, size: 4, name: '' }, nv);
    f.end();
    e.materialize();
    f.i32(~(1 << 6)).i32_and().get(eq).i32(6).i32_shl().i32_or();
    e.setEflagsFromStack();
    e.free64(ea, cur, expect, nv);
    e.free32(eq);
  },
  cmpxchg16b: (e, i, env) => {
    const m = i.ops[0];
    if (m.kind !== 'mem') throw new Unsupported('cmpxchg16b register form');
    const ea = e.ea(m);
    e.st64(CPU.scratch, ea);
    e.free64(ea);
    e.callJs((base) => {
      const cpu = env.cpu(base);
      const addr = Number(cpu.u64(CPU.scratch));
      if (addr % 16 !== 0) return raiseGP(cpu, i.addr);
      const lo = env.mem.readU64(addr), hi = env.mem.readU64(addr + 8);
      const eq = lo === cpu.get(0) && hi === cpu.get(2);
      if (eq) { env.mem.writeU64(addr, cpu.get(3)); env.mem.writeU64(addr + 8, cpu.get(1)); }
      else { env.mem.writeU64(addr, lo); env.mem.writeU64(addr + 8, hi); cpu.set(0, lo); cpu.set(2, hi); }
      env.setFlags(base, (env.getFlags(base) & ~(1 << 6)) | (eq ? 1 << 6 : 0));
      return -1;
    }, false, 0b101);
  },
  ...perCondition('cmov', cmov),
  ...perCondition('set', setcc),
  lahf: (e) => {
    const f = e.f;
    const v = e.tmp64();
    e.materialize();
    f.i32(0xd5).i32_and().i32(2).i32_or().i64_extend_i32_u().set(v);
    e.setReg({ kind: 'reg', file: 'gprh', n: 0, size: 1, name: 'ah' }, v);
    e.free64(v);
  },
  sahf: (e) => {
    const f = e.f;
    e.materialize();
    f.i32(0x800).i32_and(); // sahf loads SF ZF AF PF CF from AH and keeps OF
    e.getReg({ kind: 'reg', file: 'gprh', n: 0, size: 1, name: 'ah' });
    f.i32_wrap_i64().i32(0xd5).i32_and().i32_or();
    e.setEflagsFromStack();
  },
  pushfq: (e) => {
    const v = e.tmp64();
    readRflags(e);
    e.f.set(v);
    push(e, v);
    e.free64(v);
  },
  popfq: (e, i) => {
    const v = pop(e);
    writeRflags(e, v);
    e.free64(v);
    if (e.host.mode !== Mode.Linux) {
      // In USM mode popf may set TF or IF: the dispatcher decides how the next instruction runs.
      e.st32c(CPU.exitSlot, 0);
      e.exitWith(Exit.Lookup, i.addr + i.len);
    }
  },
  clc: (e) => { e.materialize(); e.f.i32(~F.CF).i32_and(); e.setEflagsFromStack(); },
  stc: (e) => { e.materialize(); e.f.i32(F.CF).i32_or(); e.setEflagsFromStack(); },
  cmc: (e) => { e.materialize(); e.f.i32(F.CF).i32_xor(); e.setEflagsFromStack(); },
  cld: (e) => { const f = e.f; f.get(e.cpu); e.ld64(CPU.rflags); f.i64(~F.DF).i64_and().i64_store(CPU.rflags); },
  std: (e) => { const f = e.f; f.get(e.cpu); e.ld64(CPU.rflags); f.i64(F.DF).i64_or().i64_store(CPU.rflags); },
};

export { T };
