import { ARITH_FLAGS, F } from '../core/rflags.js';
import { Fn } from './wasm/encoder.js';

/**
 * Lazy arithmetic flags. A flag-setting instruction records what it did, not the flags:
 * ccOp = kind * 4 + log2(size), with its operands a, b and result r (zero-extended to the size).
 * Flags are computed only when something reads them, by the formulas below, which serve both the
 * inline fast paths (a jcc right after its cmp) and the runtime's get_flags helper: one definition.
 *
 *   kind    a, b, r meaning                        CF                   OF
 *   EFLAGS  r = the flags themselves               -                    -
 *   ADD     r = a + b                              r <u a               (a^r)&(b^r) sign
 *   ADC     r = a + b + 1 (carry-in was 1)         r <=u a              as ADD
 *   SUB     r = a - b                              a <u b               (a^b)&(a^r) sign
 *   SBB     r = a - b - 1                          a <=u b              as SUB
 *   LOGIC   r = result                             0                    0
 *   INC/DEC r = a +/- 1, b = CF before             b                    r == min / a == min
 *   SHL     r = a << b (b in 1..)                  bit (bits-b) of a    sign(a) ^ sign(a << 1)
 *   SHR     r = a >>> b                            bit (b-1) of a       sign(a)
 *   SAR     r = a >> b                             bit (b-1) of sext a  0
 *   MUL     r = low result, b = 1 if overflow      b                    b
 *   SHRD    r = a >>> b | bits in from the left   bit (b-1) of a       sign(a) ^ bit (bits-b) of r
 * PF is the even parity of r's low byte, ZF r == 0 (0 for MUL), SF sign(r), AF (a^b^r) bit 4 for add/sub.
 */
export const enum CC {
  EFLAGS = 0, ADD = 1, ADC = 2, SUB = 3, SBB = 4, LOGIC = 5, INC = 6, DEC = 7, SHL = 8, SHR = 9, SAR = 10, MUL = 11, SHRD = 12,
}
export const CC_KINDS = 13;


export const sizeLog = (size: number) => (size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3);
export const ccOp = (kind: CC, size: number) => kind * 4 + sizeLog(size);

/** Locals holding a, b, r (i64) of the producer whose flags are wanted. */
export interface FlagInputs { a: number; b: number; r: number }

const bits = (size: number) => BigInt(size * 8);

/** Pushes sign-extension of local `l` (size bytes, zero-extended) to i64. */
function sext(f: Fn, l: number, size: number): void {
  f.get(l);
  if (size === 1) f.i64_extend8_s();
  else if (size === 2) f.i64_extend16_s();
  else if (size === 4) f.i64_extend32_s();
}

/** Pushes the i32 sign bit (0/1) of an i64 value already on the stack. */
function signBit(f: Fn, size: number): void {
  f.i64(bits(size) - 1n).i64_shr_u().i32_wrap_i64().i32(1).i32_and();
}

/** Pushes CF (i32 0/1) for a producer kind. */
export function emitCF(f: Fn, kind: CC, size: number, v: FlagInputs): void {
  switch (kind) {
    case CC.ADD: f.get(v.r).get(v.a).i64_lt_u(); return;
    case CC.ADC: f.get(v.r).get(v.a).i64_le_u(); return;
    case CC.SUB: f.get(v.a).get(v.b).i64_lt_u(); return;
    case CC.SBB: f.get(v.a).get(v.b).i64_le_u(); return;
    case CC.LOGIC: f.i32(0); return;
    case CC.INC: case CC.DEC: f.get(v.b).i32_wrap_i64(); return;
    case CC.SHL: f.get(v.a).i64(bits(size)).get(v.b).i64_sub().i64_shr_u().i32_wrap_i64().i32(1).i32_and(); return;
    case CC.SHR: case CC.SHRD: f.get(v.a).get(v.b).i64(1).i64_sub().i64_shr_u().i32_wrap_i64().i32(1).i32_and(); return;
    case CC.SAR: sext(f, v.a, size); f.get(v.b).i64(1).i64_sub().i64_shr_s().i32_wrap_i64().i32(1).i32_and(); return;
    case CC.MUL: f.get(v.b).i64_eqz().i32_eqz(); return;
    case CC.EFLAGS: f.get(v.r).i32_wrap_i64().i32(1).i32_and(); return;
  }
}

/** Code for a producer whose size is known only at run time (op & 3 = log2 of its bytes). */
interface DynSize {
  /** Pushes the size in bits (i64). */
  bits(): void;
  /** Replaces the i64 on the stack by its sign bit at the size (i32 0/1). */
  sign(): void;
}

/**
 * A switch over the lazy-flag kinds of the op in local `op` (known only at run time): each case
 * pushes an i32, left in `c` (an i32 scratch local) and then pushed.
 */
function switchOnKind(f: Fn, op: number, c: number, body: (k: CC, d: DynSize) => void): void {
  const outer = f.depth;
  f.block(); // $done
  for (let k = 0; k < CC_KINDS; k++) f.block();
  f.get(op).i32(2).i32_shr_u().br_table([...Array(CC_KINDS).keys()], CC.EFLAGS);
  const d: DynSize = {
    bits: () => { f.i64(8).get(op).i32(3).i32_and().i64_extend_i32_u().i64_shl(); },
    sign: () => { d.bits(); f.i64(1).i64_sub().i64_shr_u().i32_wrap_i64().i32(1).i32_and(); },
  };
  for (let k = 0; k < CC_KINDS; k++) {
    f.end();
    body(k as CC, d);
    f.set(c).br(f.depth - outer - 1);
  }
  f.end(); // $done
  f.get(c);
}

/** Pushes CF of kind `k` at a run-time size (as emitCF, whose other kinds do not use the size). */
function cfDyn(f: Fn, k: CC, v: FlagInputs, d: DynSize): void {
  switch (k) {
    case CC.SHL: f.get(v.a); d.bits(); f.get(v.b).i64_sub().i64_shr_u().i32_wrap_i64().i32(1).i32_and(); return;
    case CC.SAR:
      // a sign-extended from its size: (a << (64 - bits)) >> (64 - bits), arithmetic
      f.get(v.a).i64(64); d.bits(); f.i64_sub().i64_shl().i64(64); d.bits(); f.i64_sub().i64_shr_s();
      f.get(v.b).i64(1).i64_sub().i64_shr_s().i32_wrap_i64().i32(1).i32_and();
      return;
    default: emitCF(f, k, 8, v);
  }
}

/** Pushes OF of kind `k` at a run-time size (as emitOF). */
function ofDyn(f: Fn, k: CC, v: FlagInputs, d: DynSize): void {
  const min = () => { f.i64(1); d.bits(); f.i64(1).i64_sub().i64_shl(); };
  switch (k) {
    case CC.ADD: case CC.ADC: f.get(v.a).get(v.r).i64_xor().get(v.b).get(v.r).i64_xor().i64_and(); d.sign(); return;
    case CC.SUB: case CC.SBB: f.get(v.a).get(v.b).i64_xor().get(v.a).get(v.r).i64_xor().i64_and(); d.sign(); return;
    case CC.INC: f.get(v.r); min(); f.i64_eq(); return;
    case CC.DEC: f.get(v.a); min(); f.i64_eq(); return;
    case CC.SHL: f.get(v.a); d.sign(); f.get(v.a).i64(1).i64_shl(); d.sign(); f.i32_xor(); return; // (as emitOF)
    case CC.SHR: f.get(v.a); d.sign(); return;
    case CC.SHRD: f.get(v.a); d.sign(); f.get(v.r); d.bits(); f.get(v.b).i64_sub().i64_shr_u().i32_wrap_i64().i32(1).i32_and().i32_xor(); return; // (as emitOF)
    case CC.MUL: cfDyn(f, k, v, d); return;
    case CC.LOGIC: case CC.SAR: case CC.EFLAGS: f.i32(0); return;
  }
}

/**
 * Pushes CF (i32 0/1) of a producer whose kind is only known at run time (the op in local `op`):
 * a switch over the kinds, inline. inc/dec keep CF, so they need the CF of whatever ran before
 * them; through the runtime's flags_of that was a call (busybox awk: 9M of its 13M calls in a
 * 300,000-iteration loop), and V8 keeps every value live across a call in a stack slot. `c` is an
 * i32 scratch local.
 */
export function emitCFOfAnyKind(f: Fn, v: FlagInputs, op: number, c: number): void {
  switchOnKind(f, op, c, (k, d) => cfDyn(f, k, v, d));
}

/**
 * Pushes the six arithmetic flags (as emitAllFlags) of a producer whose kind is only known at run
 * time, inline (~1 KB of Wasm: for the few instructions that keep the other flags, bt, bsf...).
 */
export function emitAllFlagsOfAnyKind(f: Fn, v: FlagInputs, op: number, c: number): void {
  switchOnKind(f, op, c, (k, d) => {
    if (k === CC.EFLAGS) { f.get(v.r).i32_wrap_i64().i32(ARITH_FLAGS).i32_and(); return; }
    cfDyn(f, k, v, d);
    emitPF(f, k, v); f.i32(2).i32_shl().i32_or();
    emitAF(f, k, v); f.i32(4).i32_shl().i32_or();
    emitZF(f, k, v); f.i32(6).i32_shl().i32_or();
    f.get(v.r); d.sign(); f.i32(7).i32_shl().i32_or();
    ofDyn(f, k, v, d); f.i32(11).i32_shl().i32_or();
  });
}

/** Pushes OF (i32 0/1). */
export function emitOF(f: Fn, kind: CC, size: number, v: FlagInputs): void {
  switch (kind) {
    case CC.ADD: case CC.ADC:
      f.get(v.a).get(v.r).i64_xor().get(v.b).get(v.r).i64_xor().i64_and(); signBit(f, size); return;
    case CC.SUB: case CC.SBB:
      f.get(v.a).get(v.b).i64_xor().get(v.a).get(v.r).i64_xor().i64_and(); signBit(f, size); return;
    case CC.INC: f.get(v.r).i64(1n << (bits(size) - 1n)).i64_eq(); return;
    case CC.DEC: f.get(v.a).i64(1n << (bits(size) - 1n)).i64_eq(); return;
    // The SDM defines OF for 1-bit shifts only (CF ^ sign of the result, i.e. the top two bits of
    // the operand differ); this machine's CPU gives the same for any count: so do these.
    case CC.SHL: f.get(v.a); signBit(f, size); f.get(v.a).i64(1).i64_shl(); signBit(f, size); f.i32_xor(); return;
    case CC.SHR: f.get(v.a); signBit(f, size); return;
    // As for shl: OF as the first 1-bit step sets it, sign(a) ^ the source's low bit (now bit
    // bits-b of r), for any count (the SDM defines count 1 only; this machine's CPU does so).
    case CC.SHRD: f.get(v.a); signBit(f, size); f.get(v.r).i64(bits(size)).get(v.b).i64_sub().i64_shr_u().i32_wrap_i64().i32(1).i32_and().i32_xor(); return;
    case CC.MUL: emitCF(f, kind, size, v); return;
    case CC.LOGIC: case CC.SAR: f.i32(0); return;
    case CC.EFLAGS: f.get(v.r).i32_wrap_i64().i32(11).i32_shr_u().i32(1).i32_and(); return;
  }
}

export function emitZF(f: Fn, kind: CC, v: FlagInputs): void {
  if (kind === CC.EFLAGS) f.get(v.r).i32_wrap_i64().i32(6).i32_shr_u().i32(1).i32_and();
  // mul/imul: the SDM leaves ZF undefined; this machine's CPU clears it (SF and PF follow the low
  // half, as here): so do these.
  else if (kind === CC.MUL) f.i32(0);
  else f.get(v.r).i64_eqz();
}

export function emitSF(f: Fn, kind: CC, size: number, v: FlagInputs): void {
  if (kind === CC.EFLAGS) f.get(v.r).i32_wrap_i64().i32(7).i32_shr_u().i32(1).i32_and();
  else { f.get(v.r); signBit(f, size); }
}

export function emitPF(f: Fn, kind: CC, v: FlagInputs): void {
  if (kind === CC.EFLAGS) f.get(v.r).i32_wrap_i64().i32(2).i32_shr_u().i32(1).i32_and();
  else f.get(v.r).i32_wrap_i64().i32(0xff).i32_and().i32_popcnt().i32(1).i32_and().i32(1).i32_xor();
}

export function emitAF(f: Fn, kind: CC, v: FlagInputs): void {
  switch (kind) {
    case CC.ADD: case CC.ADC: case CC.SUB: case CC.SBB:
      f.get(v.a).get(v.b).i64_xor().get(v.r).i64_xor().i64(4).i64_shr_u().i32_wrap_i64().i32(1).i32_and(); return;
    case CC.INC: case CC.DEC:
      f.get(v.a).i64(1).i64_xor().get(v.r).i64_xor().i64(4).i64_shr_u().i32_wrap_i64().i32(1).i32_and(); return;
    case CC.EFLAGS: f.get(v.r).i32_wrap_i64().i32(4).i32_shr_u().i32(1).i32_and(); return;
    default: f.i32(0);
  }
}

/** Pushes all six arithmetic flags as an i32 in RFLAGS bit positions. */
export function emitAllFlags(f: Fn, kind: CC, size: number, v: FlagInputs): void {
  if (kind === CC.EFLAGS) { f.get(v.r).i32_wrap_i64().i32(ARITH_FLAGS).i32_and(); return; }
  emitCF(f, kind, size, v);
  emitPF(f, kind, v); f.i32(2).i32_shl().i32_or();
  emitAF(f, kind, v); f.i32(4).i32_shl().i32_or();
  emitZF(f, kind, v); f.i32(6).i32_shl().i32_or();
  emitSF(f, kind, size, v); f.i32(7).i32_shl().i32_or();
  emitOF(f, kind, size, v); f.i32(11).i32_shl().i32_or();
}

/**
 * Pushes condition `cc` (the x86 condition nibble: 0 O, 2 B, 4 E, 6 BE, 8 S, 10 P, 12 L, 14 LE;
 * odd = negated) evaluated from a statically known producer, or returns false if this producer
 * has no cheap direct form (the caller then materialises the flags).
 */
export function emitCondDirect(f: Fn, cc: number, kind: CC, size: number, v: FlagInputs): boolean {
  const base = cc & ~1;
  const neg = (cc & 1) !== 0;
  const fin = () => { if (neg) f.i32_eqz(); return true; };
  // A 32-bit or narrower value as a signed i32.
  const w = (l: number) => {
    f.get(l).i32_wrap_i64();
    if (size === 1) f.i32_extend8_s(); else if (size === 2) f.i32_extend16_s();
  };
  // SF as a signed test of the result in i32 (test r, r; js) for 32-bit and narrower results.
  const sf = () => {
    if (size > 4 || kind === CC.EFLAGS) { emitSF(f, kind, size, v); return; }
    w(v.r);
    f.i32(0).i32_lt_s();
  };
  if (kind === CC.SUB && size <= 4) {
    // Compared in i32 (cmpl, no sign extensions): a and b are zero-extended.
    switch (base) {
      case 2: f.get(v.a).i32_wrap_i64().get(v.b).i32_wrap_i64().i32_lt_u(); return fin();
      case 4: f.get(v.a).i32_wrap_i64().get(v.b).i32_wrap_i64().i32_eq(); return fin();
      case 6: f.get(v.a).i32_wrap_i64().get(v.b).i32_wrap_i64().i32_le_u(); return fin();
      case 12: w(v.a); w(v.b); f.i32_lt_s(); return fin();
      case 14: w(v.a); w(v.b); f.i32_le_s(); return fin();
      case 8: sf(); return fin();
    }
    return false;
  }
  if (kind === CC.SUB) {
    switch (base) {
      case 2: f.get(v.a).get(v.b).i64_lt_u(); return fin();
      case 4: f.get(v.a).get(v.b).i64_eq(); return fin();
      case 6: f.get(v.a).get(v.b).i64_le_u(); return fin();
      case 12: sext(f, v.a, size); sext(f, v.b, size); f.i64_lt_s(); return fin();
      case 14: sext(f, v.a, size); sext(f, v.b, size); f.i64_le_s(); return fin();
      case 8: emitSF(f, kind, size, v); return fin();
    }
    return false;
  }
  if (kind === CC.LOGIC || kind === CC.INC || kind === CC.DEC || kind === CC.ADD) {
    // r == 0 in i32 for 32-bit and narrower results (TurboFan folds test r, r with the and/add).
    const zero = () => { if (size <= 4) f.get(v.r).i32_wrap_i64().i32_eqz(); else f.get(v.r).i64_eqz(); };
    switch (base) {
      case 4: zero(); return fin();
      case 8: sf(); return fin();
    }
    if (kind === CC.LOGIC) {
      switch (base) {
        case 0: case 2: f.i32(0); return fin();
        case 6: zero(); return fin();
        case 12: sf(); return fin();
        case 14: zero(); sf(); f.i32_or(); return fin();
      }
    }
    if (kind === CC.ADD && base === 2) { emitCF(f, kind, size, v); return fin(); }
  }
  return false;
}

/** Pushes condition `cc` from an i32 of materialised flags in local `fl`. */
export function emitCondFromFlags(f: Fn, cc: number, fl: number): void {
  const bit = (n: number) => f.get(fl).i32(n).i32_shr_u().i32(1).i32_and();
  switch (cc & ~1) {
    case 0: bit(11); break;
    case 2: bit(0); break;
    case 4: bit(6); break;
    case 6: f.get(fl).i32(F.CF | F.ZF).i32_and().i32(0).i32_ne(); break;
    case 8: bit(7); break;
    case 10: bit(2); break;
    case 12: bit(7); bit(11); f.i32_xor(); break;
    case 14: bit(7); bit(11); f.i32_xor(); bit(6); f.i32_or(); break;
  }
  if (cc & 1) f.i32_eqz();
}
