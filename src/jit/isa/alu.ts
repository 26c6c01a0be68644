import { CC, ccOp } from '../flags.js';
import type { Emitter } from '../emitter.js';
import type { Fn } from '../wasm/encoder.js';
import type { Family } from './types.js';
import { killsFlags, noFlags } from './table.js';
import { ARITH_FLAGS, F } from '../../core/rflags.js';
import type { Insn } from '../../decoder/ir.js';

/** Integer arithmetic and logic: add sub adc sbb and or xor cmp test inc dec neg not. */

type Op = (f: Fn) => void;

/**
 * Masks the i64 on the stack to `size` bytes. 32 bits as a wrap and a zero-extension, not an
 * `and` with 0xffffffff: TurboFan folds a wrap of an extension away and knows that a 32-bit
 * operation's result is zero-extended already, where each such `and` cost a `movl`.
 */
export function truncate(f: Fn, size: number): void {
  if (size === 4) f.i32_wrap_i64().i64_extend_i32_u();
  else if (size < 8) f.i32_wrap_i64().i32(size === 2 ? 0xffff : 0xff).i32_and().i64_extend_i32_u();
}

function binary(kind: CC, op: Op, writeBack: boolean, op32?: Op) {
  return (e: Emitter, i: Insn) => {
    const d = i.ops[0], s = i.ops[1];
    const size = d.size;
    const f = e.f;
    const compute = (a: number) => {
      const b = e.readL(s, size);
      const r = e.tmp64();
      if (size === 4 && op32) {
        // In i32, so that TurboFan emits the 32-bit instruction, which zero-extends by itself.
        f.get(a).i32_wrap_i64().get(b).i32_wrap_i64();
        op32(f);
        f.i64_extend_i32_u();
      } else {
        f.get(a).get(b);
        op(f);
        truncate(f, size);
      }
      f.set(r);
      e.setFlags(kind, size, a, b, r);
      e.free64(b);
      return r;
    };
    if (writeBack) {
      e.rmw(d, (a) => compute(a));
    } else {
      const a = e.readL(d, size);
      const r = compute(a);
      e.free64(a, r);
    }
  };
}

/** xor r, r (same register) is the zeroing idiom: no read needed. */
function xorOp(e: Emitter, i: Insn): void {
  const d = i.ops[0], s = i.ops[1];
  if (d.kind === 'reg' && s.kind === 'reg' && d.file === s.file && d.n === s.n && d.file === 'gpr') {
    const r = e.tmp64();
    e.f.i64(0).set(r);
    e.setReg(d, r);
    e.setFlags(CC.LOGIC, d.size, null, null, r);
    e.free64(r);
    return;
  }
  binary(CC.LOGIC, (f) => f.i64_xor(), true, (f) => f.i32_xor())(e, i);
}

/** adc/sbb: carry-in from the flags; the lazy op records whether it was 1 (ADC/SBB) or 0 (ADD/SUB). */
function withCarry(kind: CC.ADD | CC.SUB) {
  return (e: Emitter, i: Insn) => {
    const d = i.ops[0], s = i.ops[1];
    const size = d.size;
    const f = e.f;
    e.rmw(d, (a) => {
      const c = e.tmp32();
      e.carry();
      f.set(c);
      const b = e.readL(s, size);
      const r = e.tmp64();
      f.get(a).get(b);
      if (kind === CC.ADD) f.i64_add().get(c).i64_extend_i32_u().i64_add();
      else f.i64_sub().get(c).i64_extend_i32_u().i64_sub();
      truncate(f, size);
      f.set(r);
      f.i32(ccOp(kind, size)).get(c).i32(4).i32_mul().i32_add();
      e.setFlagsDynamic(a, b, r);
      e.free64(b);
      e.free32(c);
      return r;
    });
  };
}

function incdec(kind: CC.INC | CC.DEC) {
  return (e: Emitter, i: Insn) => {
    const d = i.ops[0];
    const size = d.size;
    const f = e.f;
    e.rmw(d, (a) => {
      const cf = e.tmp64();
      e.carry();
      f.i64_extend_i32_u().set(cf);
      const r = e.tmp64();
      if (size === 4) {
        f.get(a).i32_wrap_i64().i32(1);
        if (kind === CC.INC) f.i32_add(); else f.i32_sub();
        f.i64_extend_i32_u();
      } else {
        f.get(a).i64(1);
        if (kind === CC.INC) f.i64_add(); else f.i64_sub();
        truncate(f, size);
      }
      f.set(r);
      e.setFlags(kind, size, a, cf, r);
      e.free64(cf);
      return r;
    });
  };
}

export const alu: Family = {
  add: killsFlags(binary(CC.ADD, (f) => f.i64_add(), true, (f) => f.i32_add())),
  sub: killsFlags(binary(CC.SUB, (f) => f.i64_sub(), true, (f) => f.i32_sub())),
  and: killsFlags(binary(CC.LOGIC, (f) => f.i64_and(), true, (f) => f.i32_and())),
  or: killsFlags(binary(CC.LOGIC, (f) => f.i64_or(), true, (f) => f.i32_or())),
  xor: killsFlags(xorOp),
  cmp: killsFlags(binary(CC.SUB, (f) => f.i64_sub(), false, (f) => f.i32_sub())),
  test: killsFlags(binary(CC.LOGIC, (f) => f.i64_and(), false, (f) => f.i32_and())),
  adc: { emit: withCarry(CC.ADD), flags: { reads: F.CF, writes: ARITH_FLAGS } },
  sbb: { emit: withCarry(CC.SUB), flags: { reads: F.CF, writes: ARITH_FLAGS } },
  // inc/dec keep CF.
  inc: { emit: incdec(CC.INC), flags: { reads: 0, writes: ARITH_FLAGS & ~F.CF } },
  dec: { emit: incdec(CC.DEC), flags: { reads: 0, writes: ARITH_FLAGS & ~F.CF } },
  neg: killsFlags((e, i) => {
    const d = i.ops[0];
    const size = d.size;
    const f = e.f;
    e.rmw(d, (b) => {
      const z = e.tmp64();
      f.i64(0).set(z);
      const r = e.tmp64();
      if (size === 4) f.i32(0).get(b).i32_wrap_i64().i32_sub().i64_extend_i32_u();
      else { f.i64(0).get(b).i64_sub(); truncate(f, size); }
      f.set(r);
      e.setFlags(CC.SUB, size, z, b, r);
      e.free64(z);
      return r;
    });
  }),
  not: noFlags((e, i) => {
    const d = i.ops[0];
    const f = e.f;
    e.rmw(d, (a) => {
      const r = e.tmp64();
      if (d.size === 4) f.get(a).i32_wrap_i64().i32(-1).i32_xor().i64_extend_i32_u();
      else { f.get(a).i64(-1).i64_xor(); truncate(f, d.size); }
      f.set(r);
      return r;
    });
  }),
};
