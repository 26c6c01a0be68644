import type { Block } from '../decoder/ir.js';
import { Exit, Vector } from '../vmx/exits.js';
import { CPU } from './layout.js';
import { Emitter, EmitHost, JsEnv, RuntimeImports, Unsupported } from './emitter.js';
import { ISA } from './isa/index.js';
import type { Fn } from './wasm/encoder.js';

/** A note about an instruction the translator could not handle (reported with the #UD). */
export interface UntranslatedNote { addr: number; text: string; why: string }

/**
 * Translates one block into a Wasm function: budget check, each instruction through its family's
 * emitter, then the fall-through exit. An instruction the ISA table lacks (or an operand form an
 * emitter rejects) becomes a #UD exit at that instruction, so the guest sees SIGILL, never the host.
 */
export function translateBlock(block: Block, rt: RuntimeImports, host: EmitHost, env: JsEnv,
  notes: Map<number, UntranslatedNote>): Fn {
  const e = new Emitter(rt, host);
  const f = e.f;
  // Budget: every block entry counts down; at zero the dispatcher gets control (signals, timers).
  const b = e.tmp32();
  f.get(e.cpu).get(e.cpu).i32_load(CPU.budget).i32(1).i32_sub().tee(b).i32_store(CPU.budget);
  f.get(b).i32(0).i32_le_s().if_();
  e.st64c(CPU.rip, block.start);
  f.i32(Exit.Budget).return_();
  f.end();
  e.free32(b);

  for (const insn of block.insns) {
    e.insn = insn;
    const emit = ISA[insn.op];
    const mark = e.mark();
    try {
      if (!emit) throw new Unsupported(`no translation for '${insn.op}'`);
      emit(e, insn, env);
    } catch (err) {
      if (!(err instanceof Unsupported)) throw err;
      e.rollback(mark);
      notes.set(insn.addr, { addr: insn.addr, text: insn.text, why: err.message });
      e.raise(Vector.UD);
      return f;
    }
  }
  const last = block.insns[block.insns.length - 1];
  if (block.fault) {
    e.insn = { ...(last ?? { ops: [], rep: 0, lock: false, opsize: false, rexW: false, bytes: new Uint8Array(), text: '', op: '', len: 0 }), addr: block.fault.addr };
    if (block.fault.vector === 'UD') e.raise(Vector.UD);
    else e.raise(Vector.PF, BigInt(block.fault.pfAddr ?? block.fault.addr));
  } else if (!last || !endsBlock(last.op)) {
    e.exitTo(block.end);
  }
  return f;
}

import { TERMINATORS } from './isa/index.js';
function endsBlock(op: string): boolean {
  return TERMINATORS.has(op);
}
