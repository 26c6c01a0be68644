import type { Block } from '../decoder/ir.js';
import { ARITH_FLAGS } from '../core/rflags.js';
import { flagUse } from './isa/index.js';

/**
 * Arithmetic-flag liveness within a block: whether some later instruction may read the flags an
 * instruction produces. Emitters whose flag results are expensive (rotates compute them eagerly)
 * skip the work when the flags are dead. At the end of a block the flags are assumed live (the
 * successor may read them). What each instruction reads and writes is its table entry's `flags`
 * (isa/table.ts); an instruction that writes all six without reading any kills them, one that
 * touches none passes liveness through, anything else (a partial writer, a reader, an instruction
 * that declares nothing) makes them live.
 */
export function flagsLiveAfter(b: Block): boolean[] {
  const out = new Array<boolean>(b.insns.length);
  let live = true;
  for (let k = b.insns.length - 1; k >= 0; k--) {
    out[k] = live;
    const { reads, writes } = flagUse(b.insns[k]);
    if (reads === 0 && writes === ARITH_FLAGS) live = false;
    else if (reads !== 0 || writes !== 0) live = true;
  }
  return out;
}
