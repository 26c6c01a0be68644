import type { Insn } from '../../decoder/ir.js';
import { alu } from './alu.js';
import { bits } from './bits.js';
import { control } from './control.js';
import { move } from './move.js';
import { muldiv } from './muldiv.js';
import { shift } from './shift.js';
import { string } from './string.js';
import { system } from './system.js';
import { sse } from './sse.js';
import { ldmxcsr, withPrecise } from './sse-precise.js';
import { sse3 } from './sse3.js';
import { ssse3 } from './ssse3.js';
import { sse41 } from './sse41.js';
import { sse42 } from './sse42.js';
import { x87 } from './x87.js';
import { addMmx } from './mmx.js';
import type { EmitFn, Family } from './types.js';

/**
 * The instruction table: Capstone instruction name -> emitter, assembled from the families.
 * Names shared by two families (string movsd/cmpsd vs SSE movsd/cmpsd) are told apart by operands.
 */
const families: Family[] = [alu, shift, muldiv, move, bits, control, string, system];

export const ISA: Family = {};
for (const fam of families) {
  for (const [name, fn] of Object.entries(fam)) {
    if (ISA[name]) throw new Error(`instruction ${name} defined twice`);
    ISA[name] = fn;
  }
}

/** Adds a family after the core ones (SSE, x87 register themselves this way). */
export function addFamily(fam: Family, overrideShared: string[] = []): void {
  for (const [name, fn] of Object.entries(fam)) {
    const existing = ISA[name] as EmitFn | undefined;
    if (existing && overrideShared.includes(name)) {
      const byOperands: EmitFn = (e, i, env) => (hasXmm(i) ? fn : existing)(e, i, env);
      ISA[name] = byOperands;
    } else if (existing) {
      throw new Error(`instruction ${name} defined twice`);
    } else {
      ISA[name] = fn;
    }
  }
}

// SSE floating point: the inline Wasm SIMD translations until the guest writes MXCSR, then the
// exact ones (sse-precise.ts).
addFamily(withPrecise({ ...sse, ldmxcsr }), ['movsd', 'cmpsd']);
addFamily(withPrecise(sse3));
addFamily(ssse3);
addFamily(withPrecise(sse41));
addFamily(x87);
addFamily(sse42);
addMmx(ISA); // after the SSE families: their names (paddb, movd...) keep their non-MMX forms

function hasXmm(i: Insn): boolean {
  return i.ops.some((o) => o.kind === 'reg' && o.file === 'xmm');
}

/** Instructions after which a block ends (control transfer or exit to the runtime). */
export const TERMINATORS = new Set([
  ...Object.keys(control),
  'int', 'into', 'iretq', 'sysretq', 'vmcall', 'hlt',
]);
