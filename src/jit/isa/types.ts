import type { Insn } from '../../decoder/ir.js';
import type { Emitter, JsEnv } from '../emitter.js';
import type { InsnSpec } from './table.js';
import { F } from '../../core/rflags.js';

/** Emits one instruction. */
export type EmitFn = (e: Emitter, i: Insn, env: JsEnv) => void;
/**
 * A family: Capstone instruction name (the id's name, x86-ids.ts) -> its emitter, or an emitter
 * with facts (table.ts InsnSpec).
 */
export type Family = Record<string, EmitFn | InsnSpec>;

/** x86 condition nibble by mnemonic suffix (jcc, setcc, cmovcc). */
const COND: Record<string, number> = {
  o: 0, no: 1, b: 2, ae: 3, e: 4, ne: 5, be: 6, a: 7, s: 8, ns: 9, p: 10, np: 11, l: 12, ge: 13, le: 14, g: 15,
};

/** The arithmetic flags condition nibble cc tests. */
export const COND_READS: readonly number[] = [
  F.OF, F.OF, F.CF, F.CF, F.ZF, F.ZF, F.CF | F.ZF, F.CF | F.ZF,
  F.SF, F.SF, F.PF, F.PF, F.SF | F.OF, F.SF | F.OF, F.ZF | F.SF | F.OF, F.ZF | F.SF | F.OF,
];

/** Builds entries `prefix + cond` for every condition; a plain emitter reads its condition's flags. */
export function perCondition(prefix: string, make: (cc: number) => EmitFn | InsnSpec): Family {
  const out: Family = {};
  for (const [s, cc] of Object.entries(COND)) {
    const m = make(cc);
    out[prefix + s] = typeof m === 'function' ? { emit: m, flags: { reads: COND_READS[cc], writes: 0 } } : m;
  }
  return out;
}

export const sizeMask = (size: number): bigint => (size === 8 ? -1n : (1n << BigInt(size * 8)) - 1n);
