import type { Insn } from '../../decoder/ir.js';
import type { Emitter, JsEnv } from '../emitter.js';

/** Emits one instruction. A family is a table of these, keyed by Capstone's instruction name. */
export type EmitFn = (e: Emitter, i: Insn, env: JsEnv) => void;
export type Family = Record<string, EmitFn>;

/** x86 condition nibble by mnemonic suffix (jcc, setcc, cmovcc). */
export const COND: Record<string, number> = {
  o: 0, no: 1, b: 2, ae: 3, e: 4, ne: 5, be: 6, a: 7, s: 8, ns: 9, p: 10, np: 11, l: 12, ge: 13, le: 14, g: 15,
};

/** Builds entries `prefix + cond` for every condition. */
export function perCondition(prefix: string, make: (cc: number) => EmitFn): Family {
  const out: Family = {};
  for (const [s, cc] of Object.entries(COND)) out[prefix + s] = make(cc);
  return out;
}

export const sizeMask = (size: number): bigint => (size === 8 ? -1n : (1n << BigInt(size * 8)) - 1n);
