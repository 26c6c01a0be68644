import type { Block } from '../decoder/ir.js';
import { Vector } from '../core/exits.js';
import { CPU, Mode } from '../core/layout.js';
import { Emitter, EmitHost, JsEnv, RuntimeImports, Unsupported } from './emitter.js';
import { defOf } from './isa/index.js';
import { emitInsn } from './isa/privilege.js';
import { stackRun, stackRunFast } from './isa/move.js';
import { flagsLiveAfter } from './liveness.js';
import type { Fn } from './wasm/encoder.js';

/** A note about an instruction the translator could not handle (reported with the #UD). */
export interface UntranslatedNote { addr: number; text: string; why: string }

/**
 * Translates a batch of blocks into one **region** function, (cpu, pc) -> exit code:
 *
 *   prologue: load the guest registers the region uses, and the lazy flags, into locals
 *   block $exit
 *     try
 *       loop $top
 *         block $b(N-1) ... block $b0  (br_table on pc)  end  <code of block 0>  end  <block 1> ...
 *       end
 *     catch_all  write registers and flags back, rethrow   (a slow-path fault)
 *     end
 *   end
 *   exit tail: write back, then chain / return an exit code
 *
 * A direct branch to a block of the same region sets pc and branches to $top, so loops and
 * diamonds inside a region never leave Wasm locals. Each block's code ends in a transition or an
 * exit. An instruction the table lacks (isa/table.ts; or an operand form an emitter rejects) becomes a #UD
 * exit at that instruction, so the guest sees SIGILL, never the host.
 */
export function translateRegion(blocks: Block[], rt: RuntimeImports, host: EmitHost, env: JsEnv,
  notes: Map<number, UntranslatedNote>): Fn {
  const e = new Emitter(rt, host);
  const f = e.f;
  const n = blocks.length;
  // Flags live in locals throughout the region; the budget too (written back on leaving).
  e.flagsToLocals();
  f.get(e.cpu).i32_load(CPU.budget).set(e.budget);
  if (e.host.regsInMemory) f.get(e.budget).set(e.budgetAtEntry);
  // Count entries: the code cache grows only hot regions (see code-cache.ts).
  e.counterAddress();
  e.counterAddress();
  f.i32_load(0).i32(1).i32_add().i32_store(0);
  f.block(); // $exit: every exit branches here, to the shared tail
  e.exitDepth = f.depth;
  f.block(); // $budget: every 4096th transition branches here (Emitter.transition)
  e.budgetDepth = f.depth;
  f.block(); // $wrote: a write that hit translated code branches here (Emitter.endInsn)
  e.wroteDepth = f.depth;
  f.block(); // $miss: a missing access in a missExit region branches here (Emitter.missed)
  e.missDepth = f.depth;
  f.block(); // $fault: a slow-path access that faulted branches here (Emitter.faultCheck)
  e.faultDepth = f.depth;
  f.try_(); // a slow path that faults throws: the handler writes the state back first
  f.loop(); // $top: transitions between the region's blocks
  e.loopDepth = f.depth;
  // caseDepth[k]: the depth of the block whose end is where block k's code starts.
  const caseDepth: number[] = [];
  for (let k = 0; k < n; k++) { f.block(); caseDepth[n - 1 - k] = f.depth; }
  e.caseDepth = caseDepth;
  f.get(e.pc).br_table([...Array(n).keys()], n - 1);
  for (let k = 0; k < n; k++) {
    f.end();
    e.blockIndex = k;
    e.startBlock();
    emitBlock(e, blocks[k], env, notes);
  }
  f.end(); // loop
  f.unreachable();
  f.catch_all();
  e.spillAll();
  f.rethrow(0);
  f.end(); // try
  f.end(); // $fault
  e.emitFaultExit();
  f.end(); // $miss
  e.emitMissExit();
  f.end(); // $wrote
  e.emitWroteExit();
  f.end(); // $budget
  e.emitBudgetExit();
  f.end(); // $exit
  e.emitExitTail();
  return f;
}

function emitBlock(e: Emitter, block: Block, env: JsEnv, notes: Map<number, UntranslatedNote>): void {
  const live = flagsLiveAfter(block);
  for (let k = 0; k < block.insns.length; k++) {
    // A run of pushes or pops (a prologue or an epilogue): one probe for all of them where the run
    // stays within a page the TLB holds; else, and in USM modes, each on its own (below).
    const run = e.host.missExit && !FUSE_OFF ? stackRun(block.insns, k) : 0;
    if (run !== 0) {
      const n = Math.abs(run);
      const insns = block.insns.slice(k, k + n);
      e.insn = insns[0];
      e.flagsLive = live[k];
      stackRunFast(e, insns, run > 0);
      e.f.i32_eqz().if_();
      for (let j = 0; j < n; j++) {
        if (emitOne(e, block, k + j, live, env, notes)) continue;
        // (push and pop of a GPR always translate: the fast path must not run on either.)
        e.f.end();
        e.raise(Vector.UD);
        return;
      }
      e.f.end();
      k += n - 1;
      continue;
    }
    if (!emitOne(e, block, k, live, env, notes)) return;
  }
  emitBlockEnd(e, block, env);
}

const FUSE_OFF = process.env.USMJIT_FUSE === '0';

/** Emits instruction k of the block; false if it ended the block with a #UD. */
function emitOne(e: Emitter, block: Block, k: number, live: boolean[], env: JsEnv, notes: Map<number, UntranslatedNote>): boolean {
  const insn = block.insns[k];
  e.insn = insn;
  e.flagsLive = live[k];
  const def = defOf(insn);
  const mark = e.mark();
  try {
    if (!def) throw new Unsupported(`no translation for '${insn.op}'`);
    e.align = def.align;
    e.wroteMemory = false;
    const dbg = env.debug;
    if (e.host.mode !== Mode.Linux && dbg?.breakAt(insn.addr)) {
      // An instruction breakpoint (USM debug registers): checked before the instruction runs.
      e.callJs(() => dbg.check(insn), true, 0);
      e.wroteMemory = false;
    }
    emitInsn(def, e, insn, env);
    if (!def.ends) e.endInsn(insn.addr + insn.len);
  } catch (err) {
    if (!(err instanceof Unsupported)) throw err;
    e.rollback(mark);
    notes.set(insn.addr, { addr: insn.addr, text: insn.text, why: err.message });
    e.raise(Vector.UD);
    return false;
  }
  return true;
}

function emitBlockEnd(e: Emitter, block: Block, env: JsEnv): void {
  const last = block.insns[block.insns.length - 1];
  if (block.fault) {
    e.insn = { ...(last ?? { ops: [], rep: 0, lock: false, opsize: false, rexW: false, bytes: new Uint8Array(), text: '', id: 0, op: '', opcode: [0, 0, 0, 0], modrm: 0, len: 0 }), addr: block.fault.addr };
    if (block.fault.vector === 'UD') e.raise(Vector.UD);
    else {
      // The fault an instruction fetch there gets, decided when the block runs (the page tables
      // or mappings may differ by then): a JS op whose MemoryFault the runtime records.
      const at = block.fault.pfAddr ?? block.fault.addr;
      e.callJs(() => env.fetchFault!(at));
      e.exitTo(block.fault.addr); // (not reached: the op always faults)
    }
  } else if (!last || !defOf(last)?.ends) {
    e.exitTo(block.end);
  }
}

