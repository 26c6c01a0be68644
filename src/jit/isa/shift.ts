import { CC, ccOp } from '../flags.js';
import { F } from '../../core/rflags.js';
import type { Emitter } from '../emitter.js';
import type { Insn, Operand } from '../../decoder/ir.js';
import type { Family } from './types.js';
import { FLAGS_ANY, FLAGS_KILL, type FlagUse } from './table.js';
import { truncate } from './alu.js';
import { T } from '../wasm/encoder.js';

/**
 * Shifts and rotates: shl/sal shr sar rol ror rcl rcr shld shrd. The count is masked to 5 bits
 * (6 for 64-bit operands); a zero count leaves the flags alone, which for a count held in CL is
 * only known at run time (the lazy-flag locals are then updated conditionally).
 */

/** Pushes the masked count as i64 into a new local; returns [local, static count or -1]. */
function count(e: Emitter, i: Insn, size: number, idx = 1): [number, number] {
  const f = e.f;
  const c = e.tmp64();
  const m = size === 8 ? 63 : 31;
  const src = i.ops[idx];
  if (!src) { f.i64(1).set(c); return [c, 1]; }
  if (src.kind === 'imm') { const v = Number(src.value) & m; f.i64(v).set(c); return [c, v]; }
  e.read(src, 1);
  f.i64(m).i64_and().set(c);
  return [c, -1];
}

/**
 * A shift/rotate whose count masks to 0 changes nothing, but a 32-bit register destination is still
 * written, so its upper half is cleared as for any 32-bit write (checked against hardware).
 */
function writeBackZeroCount(e: Emitter, d: Operand): void {
  if (d.kind !== 'reg' || d.size !== 4) return;
  const v = e.readL(d);
  e.write(d, v);
  e.free64(v);
}

/** Records flags for a shift when the count is non-zero (statically or at run time). */
function shiftFlags(e: Emitter, kind: CC, size: number, a: number, c: number, r: number, known: number): void {
  if (known > 0) { e.setFlags(kind, size, a, c, r); return; }
  if (known === 0) return;
  const f = e.f;
  e.flagsToLocals();
  f.get(c).i64_eqz().i32_eqz().if_();
  f.get(a).set(e.lA).get(c).set(e.lB).get(r).set(e.lR).i32(ccOp(kind, size)).set(e.lOp);
  f.end();
  e.flagsDynamic();
}

function shiftOp(kind: CC.SHL | CC.SHR | CC.SAR) {
  return (e: Emitter, i: Insn) => {
    const d = i.ops[0];
    const size = d.size;
    const f = e.f;
    const [c, known] = count(e, i, size);
    e.rmw(d, (a) => {
      const r = e.tmp64();
      if (size === 4) {
        // In i32 (the count is below 32): see alu.ts truncate.
        f.get(a).i32_wrap_i64().get(c).i32_wrap_i64();
        if (kind === CC.SAR) f.i32_shr_s(); else if (kind === CC.SHL) f.i32_shl(); else f.i32_shr_u();
        f.i64_extend_i32_u();
      } else if (kind === CC.SAR) {
        f.get(a);
        if (size === 1) f.i64_extend8_s(); else if (size === 2) f.i64_extend16_s(); else if (size === 4) f.i64_extend32_s();
        f.get(c).i64_shr_s();
        truncate(f, size);
      } else {
        f.get(a).get(c);
        if (kind === CC.SHL) f.i64_shl(); else f.i64_shr_u();
        truncate(f, size);
      }
      f.set(r);
      shiftFlags(e, kind, size, a, c, r, known);
      return r;
    });
    e.free64(c);
  };
}

/** Rotates change only CF and OF; the other flags are materialised and kept. */
function rotate(left: boolean) {
  return (e: Emitter, i: Insn) => {
    const d = i.ops[0];
    const size = d.size;
    const bits = size * 8;
    const f = e.f;
    const [c, known] = count(e, i, size);
    e.rmw(d, (a) => {
      const r = e.tmp64();
      const n = e.tmp64();
      f.get(c).i64(bits).i64_rem_u().set(n);
      if (size === 8) {
        f.get(a).get(n);
        if (left) f.i64_rotl(); else f.i64_rotr();
      } else if (size === 4) {
        f.get(a).i32_wrap_i64().get(n).i32_wrap_i64();
        if (left) f.i32_rotl(); else f.i32_rotr();
        f.i64_extend_i32_u();
      } else {
        // Within the operand size: left (a << n | a >> (bits - n)), right (a >> n | a << (bits - n)).
        if (left) f.get(a).get(n).i64_shl().get(a).i64(bits).get(n).i64_sub().i64_shr_u().i64_or();
        else f.get(a).get(n).i64_shr_u().get(a).i64(bits).get(n).i64_sub().i64_shl().i64_or();
        truncate(f, size);
      }
      f.set(r);
      if (known !== 0 && e.flagsLive) {
        const fl = e.tmp32();
        if (known < 0) { f.get(c).i64_eqz().i32_eqz().if_(); }
        e.materialize();
        f.i32(~(F.CF | F.OF)).i32_and().set(fl);
        const bit = (v: number, k: number) => f.get(v).i64(k).i64_shr_u().i32_wrap_i64().i32(1).i32_and();
        // OF is defined for 1-bit rotates only; this machine's CPU sets it for any count as the
        // first 1-bit step does, from the operand: rol msb(a) ^ msb-1(a), ror msb(a) ^ lsb(a).
        if (left) {
          // CF = lsb(r)
          f.get(fl); bit(r, 0); f.i32_or();
          bit(a, bits - 1); bit(a, bits - 2); f.i32_xor().i32(11).i32_shl().i32_or();
        } else {
          // CF = msb(r)
          f.get(fl); bit(r, bits - 1); f.i32_or();
          bit(a, bits - 1); bit(a, 0); f.i32_xor().i32(11).i32_shl().i32_or();
        }
        if (known < 0) {
          // Conditional update: write the new flags into the locals only when count != 0.
          f.i64_extend_i32_u().set(e.lR);
          f.i32(CC.EFLAGS).set(e.lOp);
          f.end();
          e.flagsDynamic();
        } else {
          e.setEflagsFromStack();
        }
        e.free32(fl);
      }
      e.free64(n);
      return r;
    });
    e.free64(c);
  };
}

/** rcl/rcr through a 9/17/33/65-bit rotate; done one bit at a time (counts are small in practice). */
function rotateCarry(left: boolean) {
  return (e: Emitter, i: Insn) => {
    const d = i.ops[0];
    const size = d.size;
    const bits = size * 8;
    const f = e.f;
    const [c, known] = count(e, i, size);
    if (known === 0) { e.free64(c); writeBackZeroCount(e, d); return; }
    e.rmw(d, (a) => {
      const r = e.tmp64(), cf = e.tmp64(), n = e.tmp64(), fl = e.tmp32(), out = e.tmp64();
      e.materialize();
      f.set(fl);
      f.get(fl).i32(1).i32_and().i64_extend_i32_u().set(cf);
      f.get(a).set(r);
      // n = count mod (bits + 1); a count that is a non-zero multiple of bits + 1 (an 8- or 16-bit
      // operand) rotates nothing and, on this machine's CPU, leaves the flags as they were too.
      const moved = e.tmp32();
      f.get(c).i64(bits + 1).i64_rem_u().tee(n).i64_eqz().i32_eqz().set(moved);
      f.block().loop();
      f.get(n).i64_eqz().br_if(1);
      if (left) {
        f.get(r).i64(bits - 1).i64_shr_u().i64(1).i64_and().set(out);
        f.get(r).i64(1).i64_shl().get(cf).i64_or().set(r);
      } else {
        f.get(r).i64(1).i64_and().set(out);
        f.get(r).i64(1).i64_shr_u().get(cf).i64(bits - 1).i64_shl().i64_or().set(r);
      }
      f.get(r); truncate(f, size); f.set(r);
      f.get(out).set(cf);
      f.get(n).i64(1).i64_sub().set(n);
      f.br(0).end().end();
      // flags: CF = cf; OF as the first 1-bit step sets it (defined for count 1 only; this
      // machine's CPU does so for any count): rcl msb(a) ^ msb-1(a), rcr CF before ^ msb(a).
      f.get(moved).if_(T.i32);
      f.get(fl).i32(~(F.CF | F.OF)).i32_and().get(cf).i32_wrap_i64().i32_or();
      f.get(a).i64(bits - 1).i64_shr_u().i32_wrap_i64().i32(1).i32_and();
      if (left) f.get(a).i64(bits - 2).i64_shr_u().i32_wrap_i64().i32(1).i32_and();
      else f.get(fl).i32(1).i32_and();
      f.i32_xor().i32(11).i32_shl().i32_or();
      f.else_().get(fl).end();
      e.setEflagsFromStack();
      e.free64(cf, n, out);
      e.free32(fl, moved);
      return r;
    });
    e.free64(c);
  };
}

/**
 * The flags of a 16-bit shld/shrd, computed at once (the lazy record cannot hold the composite a
 * count above 16 rotates, see doubleShift): CF the last bit rotated out of the 32-bit composite,
 * OF as the first 1-bit step sets it (msb(dst) ^ the bit shifted in next to it), SF, ZF, PF of the
 * result, AF clear: this machine's CPU, measured (the SDM defines counts 1-16 and OF for count 1).
 */
function doubleShift16Flags(e: Emitter, left: boolean, a: number, b: number, c: number, r: number, known: number): void {
  const f = e.f;
  const bit = (v: number, k: number) => f.get(v).i64(k).i64_shr_u().i32_wrap_i64().i32(1).i32_and();
  const fl = e.tmp32();
  // CF
  if (left) { f.get(a).i64(16).i64_shl().get(b).i64_or().i64(32).get(c).i64_sub().i64_shr_u(); }
  else { f.get(b).i64(16).i64_shl().get(a).i64_or().get(c).i64(1).i64_sub().i64_shr_u(); }
  f.i32_wrap_i64().i32(1).i32_and();
  // OF
  bit(a, 15);
  if (left) bit(a, 14); else bit(b, 0);
  f.i32_xor().i32(11).i32_shl().i32_or();
  // SF, ZF, PF
  bit(r, 15); f.i32(7).i32_shl().i32_or();
  f.get(r).i64_eqz().i32(6).i32_shl().i32_or();
  f.get(r).i32_wrap_i64().i32(0xff).i32_and().i32_popcnt().i32(1).i32_and().i32(1).i32_xor().i32(2).i32_shl().i32_or();
  f.set(fl);
  if (known > 0) {
    f.get(fl);
    e.setEflagsFromStack();
  } else {
    // A count in cl may be zero: then the flags stay as they were.
    e.flagsToLocals();
    f.get(c).i64_eqz().i32_eqz().if_();
    f.get(fl).i64_extend_i32_u().set(e.lR).i32(CC.EFLAGS).set(e.lOp);
    f.end();
    e.flagsDynamic();
  }
  e.free32(fl);
}

/** shld/shrd dst, src, count: dst shifted with bits coming in from src. */
function doubleShift(left: boolean) {
  return (e: Emitter, i: Insn) => {
    const d = i.ops[0], s = i.ops[1];
    const size = d.size;
    const bits = size * 8;
    const f = e.f;
    const [c, known] = count(e, i, size, 2);
    if (known === 0) { e.free64(c); writeBackZeroCount(e, d); return; }
    e.rmw(d, (a) => {
      const b = e.readL(s, size);
      const r = e.tmp64();
      if (size === 2) {
        // 16-bit: the SDM leaves counts above 16 undefined; this machine's CPU rotates the 32-bit
        // composite (dst:src for shld, src:dst for shrd), which for counts up to 16 is the shift.
        if (left) f.get(a).i64(16).i64_shl().get(b).i64_or().i32_wrap_i64().get(c).i32_wrap_i64().i32_rotl().i32(16).i32_shr_u().i64_extend_i32_u();
        else f.get(b).i64(16).i64_shl().get(a).i64_or().i32_wrap_i64().get(c).i32_wrap_i64().i32_rotr().i64_extend_i32_u();
      } else if (left) {
        f.get(a).get(c).i64_shl().get(b).i64(bits).get(c).i64_sub().i64_shr_u().i64_or();
      } else {
        f.get(a).get(c).i64_shr_u().get(b).i64(bits).get(c).i64_sub().i64_shl().i64_or();
      }
      truncate(f, size);
      f.set(r);
      // count == 0 is handled below by shiftFlags; for a zero count the value is unchanged:
      f.get(c).i64_eqz().if_().get(a).set(r).end();
      if (size === 2) doubleShift16Flags(e, left, a, b, c, r, known);
      else shiftFlags(e, left ? CC.SHL : CC.SHRD, size, a, c, r, known);
      e.free64(b);
      return r;
    });
    e.free64(c);
  };
}

/**
 * shl/shr/sar by a non-zero immediate write every flag; a zero count leaves them alone, and a
 * count in cl may be zero: then the old flags pass through (read).
 */
function shiftFlagUse(i: Insn): FlagUse {
  const c = i.ops[1];
  const m = i.ops[0].size === 8 ? 63 : 31;
  return !c || (c.kind === 'imm' && (Number(c.value & 0xffn) & m) !== 0) ? FLAGS_KILL : FLAGS_ANY;
}

export const shift: Family = {
  shl: { emit: shiftOp(CC.SHL), flags: shiftFlagUse },
  sal: { emit: shiftOp(CC.SHL), flags: shiftFlagUse },
  shr: { emit: shiftOp(CC.SHR), flags: shiftFlagUse },
  sar: { emit: shiftOp(CC.SAR), flags: shiftFlagUse },
  rol: rotate(true),
  ror: rotate(false),
  rcl: rotateCarry(true),
  rcr: rotateCarry(false),
  shld: doubleShift(true),
  shrd: doubleShift(false),
};
