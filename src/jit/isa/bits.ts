import { CC } from '../flags.js';
import { F } from '../../core/rflags.js';
import type { Emitter } from '../emitter.js';
import type { Insn } from '../../decoder/ir.js';
import type { Family } from './types.js';
import { killsFlags } from './table.js';
import { truncate } from './alu.js';

/** Bit operations: bt bts btr btc bsf bsr tzcnt lzcnt popcnt. */

type BtMode = 'test' | 'set' | 'reset' | 'complement';

function bt(mode: BtMode) {
  return (e: Emitter, i: Insn) => {
    const d = i.ops[0], s = i.ops[1];
    const size = d.size;
    const bits = size * 8;
    const f = e.f;
    const off = e.readL(s, s.kind === 'imm' ? 1 : size);
    const bit = e.tmp64();
    f.get(off).i64(bits - 1).i64_and().set(bit);
    let target = d;
    let ea = -1;
    if (d.kind === 'mem' && s.kind !== 'imm') {
      // A register bit offset addresses memory beyond the operand: ea += (signed offset >> log2 bits) * size.
      ea = e.ea(d);
      f.get(ea).get(off);
      if (size === 2) f.i64_extend16_s(); else if (size === 4) f.i64_extend32_s();
      f.i64(Math.log2(bits)).i64_shr_s().i64(size).i64_mul().i64_add().set(ea);
    }
    const cf = e.tmp32();
    const apply = (v: number): number => {
      f.get(v).get(bit).i64_shr_u().i32_wrap_i64().i32(1).i32_and().set(cf);
      const r = e.tmp64();
      if (mode === 'set') f.get(v).i64(1).get(bit).i64_shl().i64_or().set(r);
      else if (mode === 'reset') f.get(v).i64(1).get(bit).i64_shl().i64(-1).i64_xor().i64_and().set(r);
      else if (mode === 'complement') f.get(v).i64(1).get(bit).i64_shl().i64_xor().set(r);
      return r;
    };
    if (ea >= 0) {
      e.load(ea, size);
      const v = e.tmp64();
      f.set(v);
      const r = apply(v);
      if (mode !== 'test') e.store(ea, size, r);
      e.free64(v, r, ea);
    } else if (mode === 'test') {
      const v = e.readL(target);
      const r = apply(v);
      e.free64(v, r);
    } else {
      e.rmw(target, (v) => apply(v));
    }
    e.materialize(true); // (inline: these keep the other flags, see flags.ts emitAllFlagsOfAnyKind)
    f.i32(~F.CF).i32_and().get(cf).i32_or();
    e.setEflagsFromStack();
    e.free64(off, bit);
    e.free32(cf);
    target = d;
  };
}

/**
 * bsf/bsr: a zero source sets ZF and leaves the destination unchanged. The SDM leaves CF, OF, SF,
 * AF and PF undefined; this machine's CPU (an Intel Xeon) clears them but PF, the parity of the
 * index found (of 0 for a zero source), and so do these, whatever the flags were before.
 */
function bitScan(reverse: boolean) {
  return (e: Emitter, i: Insn) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const v = e.readL(s);
    const z = e.tmp32();
    f.get(v).i64_eqz().set(z);
    const r = e.tmp64();
    if (reverse) f.i64(63).get(v).i64_clz().i64_sub().set(r);
    else f.get(v).i64_ctz().set(r);
    f.get(z).i32_eqz().if_();
    e.write(d, r);
    f.end();
    // PF of the index (0 for a zero source), ZF = zero source.
    f.get(r).i32_wrap_i64().i32(0xff).i32_and().get(z).i32_eqz().i32_mul();
    f.i32_popcnt().i32(1).i32_and().i32(1).i32_xor().i32(2).i32_shl();
    f.get(z).i32(6).i32_shl().i32_or();
    e.setEflagsFromStack();
    e.free64(v, r);
    e.free32(z);
  };
}

/** tzcnt/lzcnt: count (operand size if zero); CF = source was zero, ZF = result is zero. */
function count(leading: boolean) {
  return (e: Emitter, i: Insn) => {
    const d = i.ops[0], s = i.ops[1];
    const size = d.size;
    const f = e.f;
    const v = e.readL(s);
    const r = e.tmp64();
    if (leading) f.get(v).i64_clz().i64(64 - size * 8).i64_sub().set(r);
    else {
      f.get(v).i64(1n << BigInt(size * 8)).i64_or();
      if (size === 8) { f.drop(); f.get(v); }
      f.i64_ctz().set(r);
    }
    e.write(d, r);
    // CF = zero source, ZF = zero result; the SDM leaves OF, SF, AF and PF undefined, and this
    // machine's CPU clears them: so do these.
    f.get(v).i64_eqz();
    f.get(r).i64_eqz().i32(6).i32_shl().i32_or();
    e.setEflagsFromStack();
    e.free64(v, r);
  };
}

export const bits: Family = {
  bt: bt('test'),
  bts: bt('set'),
  btr: bt('reset'),
  btc: bt('complement'),
  bsf: bitScan(false),
  bsr: bitScan(true),
  tzcnt: count(false),
  lzcnt: count(true),
  popcnt: killsFlags((e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const v = e.readL(s);
    const r = e.tmp64();
    f.get(v).i64_popcnt().set(r);
    e.write(d, r);
    // popcnt clears OF SF AF CF PF and sets ZF from the source.
    f.get(v).i64_eqz().i32(6).i32_shl();
    e.setEflagsFromStack();
    e.free64(v, r);
  }),
};

export { CC, truncate };
