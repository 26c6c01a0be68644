import { CC } from '../flags.js';
import type { Emitter, JsEnv } from '../emitter.js';
import type { Insn, RegOperand } from '../../decoder/ir.js';
import type { Family } from './types.js';
import { killsFlags } from './table.js';
import { sizeMask } from './types.js';
import { truncate } from './alu.js';
import { Exit, Vector } from '../../core/exits.js';
import { CPU } from '../../core/layout.js';

/** mul imul div idiv. Quotients of dividends wider than 64 bits use a TypeScript helper. */

const reg = (n: number, size: number): RegOperand => ({ kind: 'reg', file: 'gpr', n, size, name: '' });

function sext(e: Emitter, size: number): void {
  const f = e.f;
  if (size === 1) f.i64_extend8_s(); else if (size === 2) f.i64_extend16_s(); else if (size === 4) f.i64_extend32_s();
}

/**
 * Pushes the high 64 bits of the 128-bit product of i64 locals `a` and `b` (signed or not),
 * inline from 32-bit halves: a call to a helper would make V8 keep every live value of the region
 * in stack slots around it.
 */
function mulHigh(e: Emitter, a: number, b: number, signed: boolean): void {
  const f = e.f;
  const M = 0xffff_ffffn;
  const t = e.tmp64(), u = e.tmp64(), w = e.tmp64();
  f.get(a).i64(M).i64_and().get(b).i64(M).i64_and().i64_mul().set(t); // al * bl
  f.get(a).i64(32).i64_shr_u().get(b).i64(M).i64_and().i64_mul().get(t).i64(32).i64_shr_u().i64_add().set(u); // ah * bl + carry
  f.get(a).i64(M).i64_and().get(b).i64(32).i64_shr_u().i64_mul().get(u).i64(M).i64_and().i64_add().set(w); // al * bh + low(u)
  f.get(a).i64(32).i64_shr_u().get(b).i64(32).i64_shr_u().i64_mul()
    .get(u).i64(32).i64_shr_u().i64_add().get(w).i64(32).i64_shr_u().i64_add();
  // Signed: the unsigned high half minus (a < 0 ? b : 0) and (b < 0 ? a : 0).
  if (signed) {
    f.get(b).i64(0).get(a).i64(0).i64_lt_s().select().i64_sub();
    f.get(a).i64(0).get(b).i64(0).i64_lt_s().select().i64_sub();
  }
  e.free64(t, u, w);
}

/** Writes the wide result of a one-operand mul/imul: lo -> rax/al, hi -> rdx/ah. */
function storeWide(e: Emitter, size: number, lo: number, hi: number): void {
  const f = e.f;
  if (size === 1) {
    const ax = e.tmp64();
    f.get(hi).i64(8).i64_shl().get(lo).i64_or().set(ax);
    e.setReg(reg(0, 2), ax);
    e.free64(ax);
    return;
  }
  e.setReg(reg(0, size), lo);
  e.setReg(reg(2, size), hi);
}

function mulOne(signed: boolean) {
  return (e: Emitter, i: Insn) => {
    const src = i.ops[0];
    const size = src.size;
    const bits = size * 8;
    const f = e.f;
    const b = e.readL(src);
    const a = e.readL(reg(0, size));
    const lo = e.tmp64(), hi = e.tmp64(), ov = e.tmp64();
    if (size === 8) {
      f.get(a).get(b).i64_mul().set(lo);
      mulHigh(e, a, b, signed);
      f.set(hi);
      if (signed) f.get(hi).get(lo).i64(63).i64_shr_s().i64_ne();
      else f.get(hi).i64_eqz().i32_eqz();
    } else {
      const p = e.tmp64();
      f.get(a); if (signed) sext(e, size);
      f.get(b); if (signed) sext(e, size);
      f.i64_mul().set(p);
      f.get(p); truncate(f, size); f.set(lo);
      f.get(p).i64(bits).i64_shr_u(); truncate(f, size); f.set(hi);
      if (signed) { f.get(p).get(lo); sext(e, size); f.i64_ne(); }
      else f.get(hi).i64_eqz().i32_eqz();
      e.free64(p);
    }
    f.i64_extend_i32_u().set(ov);
    storeWide(e, size, lo, hi);
    e.setFlags(CC.MUL, size, null, ov, lo);
    e.free64(a, b, lo, hi, ov);
  };
}

/** imul r, r/m and imul r, r/m, imm: truncated product, overflow if it does not fit. */
function imulMulti(e: Emitter, i: Insn): void {
  const d = i.ops[0], s1 = i.ops[1], s2 = i.ops[2];
  const size = d.size;
  const f = e.f;
  const a = e.readL(s2 ? s1 : d, size);
  const b = e.readL(s2 ?? s1, size);
  const lo = e.tmp64(), ov = e.tmp64();
  if (size === 8) {
    f.get(a).get(b).i64_mul().set(lo);
    // OF = CF = the product does not fit: worth computing only if a later instruction reads them.
    if (e.flagsLive) { mulHigh(e, a, b, true); f.get(lo).i64(63).i64_shr_s().i64_ne(); } else f.i32(0);
  } else {
    const p = e.tmp64();
    f.get(a); sext(e, size); f.get(b); sext(e, size); f.i64_mul().set(p);
    f.get(p); truncate(f, size); f.set(lo);
    f.get(p).get(lo); sext(e, size); f.i64_ne();
    e.free64(p);
  }
  f.i64_extend_i32_u().set(ov);
  e.write(d, lo);
  e.setFlags(CC.MUL, size, null, ov, lo);
  e.free64(a, b, lo, ov);
}

/** 128-by-64 division in BigInt for the rare case the dividend does not fit in 64 bits. */
function wideDivide(env: JsEnv, signed: boolean, divisor: bigint, addr: number) {
  return (base: number): number => {
    const cpu = env.cpu(base);
    const n = (cpu.get(2) << 64n) | cpu.get(0);
    let dividend = n, d = divisor;
    if (signed) { dividend = BigInt.asIntN(128, n); d = BigInt.asIntN(64, d); }
    void addr;
    if (d === 0n) return -2;
    const q = dividend / d;
    const r = dividend % d;
    const fits = signed ? q >= -(1n << 63n) && q < 1n << 63n : q < 1n << 64n;
    if (!fits) return -2;
    cpu.set(0, q);
    cpu.set(2, r);
    return -1;
  };
}

function div(signed: boolean) {
  return (e: Emitter, i: Insn, env: JsEnv) => {
    const src = i.ops[0];
    const size = src.size;
    const bits = size * 8;
    const f = e.f;
    const d = e.readL(src);
    // #DE on a zero divisor.
    f.get(d).i64_eqz().if_();
    e.raise(Vector.DE);
    f.end();
    const n = e.tmp64(), q = e.tmp64(), r = e.tmp64();
    if (size < 8) {
      // Dividend: ax (size 1) or dx:ax / edx:eax, fits in i64 (signed: as a sign-extended 2*bits value).
      if (size === 1) { e.read(reg(0, 2)); } else {
        e.read(reg(2, size)); f.i64(bits).i64_shl(); e.read(reg(0, size)); f.i64_or();
      }
      if (signed) {
        if (size === 4) { /* 64-bit dividend: already full width */ } else if (size === 2) f.i64_extend32_s(); else f.i64_extend16_s();
      }
      f.set(n);
      const dv = e.tmp64();
      f.get(d); if (signed) sext(e, size); f.set(dv);
      if (signed) {
        // INT64_MIN / -1 traps in Wasm; for size 4 the dividend can be INT64_MIN: that quotient overflows anyway.
        f.get(n).i64(-(1n << 63n)).i64_eq().get(dv).i64(-1).i64_eq().i32_and().if_();
        e.raise(Vector.DE);
        f.end();
        f.get(n).get(dv).i64_div_s().set(q);
        f.get(n).get(dv).i64_rem_s().set(r);
        // Quotient must fit in the signed size.
        f.get(q); sext(e, size); f.get(q).i64_ne();
      } else {
        f.get(n).get(dv).i64_div_u().set(q);
        f.get(n).get(dv).i64_rem_u().set(r);
        f.get(q).i64(sizeMask(size)).i64_gt_u();
      }
      f.if_();
      e.raise(Vector.DE);
      f.end();
      e.free64(dv);
      f.get(q); truncate(f, size); f.set(q);
      f.get(r); truncate(f, size); f.set(r);
      if (size === 1) {
        const ax = e.tmp64();
        f.get(r).i64(8).i64_shl().get(q).i64_or().set(ax);
        e.setReg(reg(0, 2), ax);
        e.free64(ax);
      } else {
        e.setReg(reg(0, size), q);
        e.setReg(reg(2, size), r);
      }
    } else {
      // 64-bit: fast path when rdx:rax fits in 64 bits, else BigInt in TypeScript.
      const lo = e.tmp64(), hi = e.tmp64();
      e.gpr(0); f.set(lo);
      e.gpr(2); f.set(hi);
      if (signed) f.get(hi).get(lo).i64(63).i64_shr_s().i64_eq();
      else f.get(hi).i64_eqz();
      if (signed) f.get(lo).i64(-(1n << 63n)).i64_ne().get(d).i64(-1).i64_ne().i32_or().i32_and();
      f.if_();
      if (signed) { f.get(lo).get(d).i64_div_s().set(q); f.get(lo).get(d).i64_rem_s().set(r); }
      else { f.get(lo).get(d).i64_div_u().set(q); f.get(lo).get(d).i64_rem_u().set(r); }
      e.setGpr(0, q);
      e.setGpr(2, r);
      f.else_();
      // The divisor is only known at run time; pass it through the CPU scratch area.
      const scratchOff = CPU.scratch;
      e.st64(scratchOff, d);
      e.callJs((base) => {
        const cpu = env.cpu(base);
        const dv = cpu.u64(scratchOff);
        const res = wideDivide(env, signed, dv, i.addr)(base);
        if (res === -2) return raiseDE(env, base, i.addr);
        return res;
      }, true, 0b101 /* rax rdx */);
      f.end();
      e.free64(lo, hi);
    }
    e.free64(d, n, q, r);
  };
}

/** Sets up a #DE exit from TypeScript (see vmx: Exit.Exception). */
function raiseDE(env: JsEnv, base: number, addr: number): number {
  const cpu = env.cpu(base);
  cpu.rip = BigInt(addr);
  cpu.setU64(CPU.exitInsn, BigInt(addr));
  cpu.setU64(CPU.exitArg, BigInt(Vector.DE));
  return Exit.Exception;
}

export const muldiv: Family = {
  // SF ZF AF PF are undefined after mul/imul: written all the same.
  mul: killsFlags(mulOne(false)),
  imul: killsFlags((e, i) => (i.ops.length === 1 ? mulOne(true)(e, i) : imulMulti(e, i))),
  div: div(false),
  idiv: div(true),
};
