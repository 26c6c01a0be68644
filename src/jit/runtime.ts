import { CC, CC_KINDS, emitAllFlags } from './flags.js';
import { CPU } from '../core/layout.js';
import { Fn, ModuleBuilder, T } from './wasm/encoder.js';
import { emitEntrySplit } from './entry.js';

/**
 * The runtime module: Wasm functions every translated block may call, built once at start-up
 * with the same encoder and flag formulas the blocks use.
 *   flags_of(op, a, b, r) -> i32  the lazy arithmetic flags, materialised (get_flags(cpu): from memory)
 *   run(cpu, entry) -> i32      enters a translated block (the dispatcher's one call into Wasm)
 *   chain(cpu, entry) -> i32    tail-calls a block's region (how regions reach each other)
 * An entry is (table index of the region << 8) | the block's index in it (jit/entry.ts).
 */
export interface RuntimeExports {
  get_flags: (cpu: number) => number;
  flags_of: (op: number, a: bigint, b: bigint, r: bigint) => number;
  run: (cpu: number, index: number) => number;
  chain: (cpu: number, index: number) => number;
}

/** flags_of(op, a, b, r) -> i32: the flags of a lazy-flag record held in locals. */
function buildFlagsOf(): Fn {
  const f = new Fn([T.i32, T.i64, T.i64, T.i64], [T.i32]);
  const op = 0, a = 1, b = 2, r = 3;
  const n = CC_KINDS * 4;
  // block_n ... block_0 { br_table } ; after the end of block_k comes case k.
  f.block();
  for (let k = 0; k < n; k++) f.block();
  f.get(op).br_table([...Array(n).keys()], n);
  for (let k = 0; k < n; k++) {
    f.end();
    const kind = (k >> 2) as CC;
    const size = 1 << (k & 3);
    emitAllFlags(f, kind, size, { a, b, r });
    f.return_();
  }
  f.end();
  // Unknown op: treat as EFLAGS.
  emitAllFlags(f, CC.EFLAGS, 8, { a, b, r });
  return f;
}

export function buildRuntime(memory: WebAssembly.Memory, table: WebAssembly.Table): RuntimeExports {
  // The same module for every machine: compiled once per process (forks and execs instantiate it).
  compiled ??= new WebAssembly.Module(runtimeBytes());
  const instance = new WebAssembly.Instance(compiled, { env: { mem: memory, table } });
  return instance.exports as unknown as RuntimeExports;
}
let compiled: WebAssembly.Module | undefined;

function runtimeBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder({ memoryPages: 1, memoryMax: 65536, tableMin: 1 });
  const regionType = m.type([T.i32, T.i32], [T.i32]);
  const flagsOf = m.add(buildFlagsOf());
  // get_flags(cpu): the same from the record in the CPU block (for TypeScript).
  const gf = new Fn([T.i32], [T.i32]);
  gf.get(0).i32_load(CPU.ccOp).get(0).i64_load(CPU.ccA).get(0).i64_load(CPU.ccB).get(0).i64_load(CPU.ccRes).call(flagsOf);
  const getFlags = m.add(gf);
  // Call the region of an entry with its pc (jit/entry.ts).
  const run = new Fn([T.i32, T.i32], [T.i32]);
  run.get(0);
  emitEntrySplit(run, 1);
  run.call_indirect(regionType);
  const runIdx = m.add(run);
  // Regions chain through this tail call rather than importing the table themselves: in V8 11
  // every instance that imports a table pays O(table size) at instantiation.
  const chain = new Fn([T.i32, T.i32], [T.i32]);
  chain.get(0);
  emitEntrySplit(chain, 1);
  chain.return_call_indirect(regionType);
  const chainIdx = m.add(chain);
  m.export('get_flags', getFlags);
  m.export('flags_of', flagsOf);
  m.export('run', runIdx);
  m.export('chain', chainIdx);
  return m.emit();
}
