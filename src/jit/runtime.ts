import { CC, CC_KINDS, emitAllFlags } from './flags.js';
import { CPU } from '../core/layout.js';
import { Fn, ModuleBuilder, T } from './wasm/encoder.js';
import { emitEntrySplit } from './entry.js';

/**
 * The runtime module: Wasm functions every translated block may call, built once at start-up
 * with the same encoder and flag formulas the blocks use.
 *   flags_of(op, a, b, r) -> i32  the lazy arithmetic flags, materialised (get_flags(cpu): from memory)
 *   mulhu(a, b), mulhs(a, b)    high 64 bits of 64x64 products
 *   run(cpu, entry) -> i32      enters a translated block (the dispatcher's one call into Wasm)
 *   chain(cpu, entry) -> i32    tail-calls a block's region (how regions reach each other)
 * An entry is (table index of the region << 8) | the block's index in it (jit/entry.ts).
 */
export interface RuntimeExports {
  get_flags: (cpu: number) => number;
  flags_of: (op: number, a: bigint, b: bigint, r: bigint) => number;
  mulhu: (a: bigint, b: bigint) => bigint;
  mulhs: (a: bigint, b: bigint) => bigint;
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

function buildMulhu(): Fn {
  const f = new Fn([T.i64, T.i64], [T.i64]);
  const al = f.local(T.i64), ah = f.local(T.i64), bl = f.local(T.i64), bh = f.local(T.i64), t = f.local(T.i64), u = f.local(T.i64), w = f.local(T.i64);
  const M = 0xffff_ffffn;
  f.get(0).i64(M).i64_and().set(al);
  f.get(0).i64(32).i64_shr_u().set(ah);
  f.get(1).i64(M).i64_and().set(bl);
  f.get(1).i64(32).i64_shr_u().set(bh);
  f.get(al).get(bl).i64_mul().set(t);
  f.get(ah).get(bl).i64_mul().get(t).i64(32).i64_shr_u().i64_add().set(u);
  f.get(al).get(bh).i64_mul().get(u).i64(M).i64_and().i64_add().set(w);
  f.get(ah).get(bh).i64_mul().get(u).i64(32).i64_shr_u().i64_add().get(w).i64(32).i64_shr_u().i64_add();
  return f;
}

function buildMulhs(mulhu: number): Fn {
  const f = new Fn([T.i64, T.i64], [T.i64]);
  // signed high = unsigned high - (a < 0 ? b : 0) - (b < 0 ? a : 0)
  f.get(0).get(1).call(mulhu);
  f.get(1).i64(0).get(0).i64(0).i64_lt_s().select().i64_sub();
  f.get(0).i64(0).get(1).i64(0).i64_lt_s().select().i64_sub();
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
  const mulhu = m.add(buildMulhu());
  const mulhs = m.add(buildMulhs(mulhu));
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
  m.export('mulhu', mulhu);
  m.export('mulhs', mulhs);
  m.export('run', runIdx);
  m.export('chain', chainIdx);
  return m.emit();
}
