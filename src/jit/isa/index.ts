import type { Block, Insn } from '../../decoder/ir.js';
import { alu } from './alu.js';
import { bits } from './bits.js';
import { control } from './control.js';
import { move } from './move.js';
import { muldiv } from './muldiv.js';
import { shift } from './shift.js';
import { string } from './string.js';
import { system } from './system.js';
import { sse } from './sse.js';
import { ldmxcsr, precise } from './sse-precise.js';
import { sse3 } from './sse3.js';
import { ssse3 } from './ssse3.js';
import { sse41 } from './sse41.js';
import { sse42 } from './sse42.js';
import { X87_MNEMONICS, x87, x87SubMap } from './x87.js';
import { mmx, usesMm } from './mmx.js';
import { FLAGS_ANY, FLAGS_NONE, InsnTable, type FlagUse, type InsnDef } from './table.js';

/** The instruction table (table.ts), assembled from the families. */
export const ISA = new InsnTable();
for (const fam of [alu, shift, muldiv, move, bits, control, string, system]) ISA.add(fam);
// SSE: vector code touches no arithmetic flag unless an entry says so (comis, ptest, pcmpXstrX);
// floating point has its exact variant (sse-precise.ts). movsd and cmpsd share their ids with the
// string instructions (table.ts).
// They also use the x87/SSE state (#NM while USM CR0.TS is set), unless an entry says not.
const vector = { flags: FLAGS_NONE, fpu: true };
ISA.add({ ...sse, ldmxcsr }, vector, { shared: ['movsd', 'cmpsd'], precise });
ISA.add(sse3, vector, { precise });
ISA.add(ssse3, vector);
ISA.add(sse41, vector, { precise });
ISA.add(sse42, vector);
ISA.add(x87, { fpu: true });
ISA.addX87(x87SubMap(), X87_MNEMONICS);
// MMX (mmx.ts) shares names with SSE forms (paddb, movd...): an instruction with an mm operand
// takes the MMX emitter. MMX uses the x87 register file (fpu: #NM while CR0.TS is set).
ISA.overlay(mmx, usesMm, { flags: FLAGS_NONE, fpu: true });
// The decoder maps the compare pseudo-ops to cmpps/cmppd/cmpss/cmpsd (decoder/capstone.ts).
ISA.alias(['eq', 'lt', 'le', 'unord', 'neq', 'nlt', 'nle', 'ord'].flatMap((p) => ['ps', 'pd', 'ss', 'sd'].map((t) => `cmp${p}${t}`)));

/** The instruction's table entry, or undefined (the translation raises #UD). */
export function defOf(i: Insn): InsnDef | undefined {
  return ISA.lookup(i);
}

/** Whether the block ends after `i` (a control transfer, or an exit to the runtime). */
export function endsBlock(i: Insn): boolean {
  return ISA.lookup(i)?.ends ?? false;
}

/** The arithmetic flags `i` reads and writes (an unknown instruction: may read all). */
export function flagUse(i: Insn): FlagUse {
  const f = ISA.lookup(i)?.flags ?? FLAGS_ANY;
  return typeof f === 'function' ? f(i) : f;
}

/** Statically known next addresses of a block (the successors a batch translates along). */
export function staticSuccessors(b: Block): number[] {
  if (b.fault) return [];
  const last = b.insns[b.insns.length - 1];
  if (!last) return [];
  const imm = last.ops[0];
  const target = imm && imm.kind === 'imm' ? Number(BigInt.asUintN(64, imm.value)) : -1;
  const known = target >= 0 ? [target] : [];
  switch (ISA.lookup(last)?.branch ?? 'none') {
    case 'none': return [b.end];
    case 'jmp': return known;
    case 'call': return [...known, b.end];
    case 'jcc': return [b.end, ...known];
    case 'exit': return [b.end];
    default: return [];
  }
}
