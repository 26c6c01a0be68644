import type { RtCall, RuntimeImports } from './emitter.js';
import { Fn, ModuleBuilder, T } from './wasm/encoder.js';

/**
 * The runtime table: a small funcref table holding the functions regions call (slow-path memory
 * accesses, JS-implemented instructions, lazy flags, 128-bit multiply halves, chaining). Regions
 * import this table and reach each function by `call_indirect` with a constant slot.
 *
 * Why not function imports: V8 11 compiles a Wasm-to-JS wrapper for every distinct imported
 * signature of every module it compiles (~0.09 ms each, also when the import turns out to be a
 * Wasm function), ~0.6 ms per region for these seven signatures: most of V8's start-up cost with
 * ~150 regions. A module that imports only memory and a small table compiles in ~0.05 ms. The
 * TypeScript functions sit behind Wasm forwarders (a table holds only Wasm functions), so their
 * wrappers are compiled once.
 *
 * RUNTIME_FUNCS is the one list: its order is the table's slot order and the order in which each
 * region declares the types (so slot and type index agree in every region module).
 */
export const RUNTIME_FUNCS = [
  // rd/wr: Wasm functions of the machine (vmx/usm-fast: the USM page walk, else TypeScript).
  { name: 'rd', field: 'rd', params: [T.i32, T.i64, T.i32, T.i64], results: [T.i64], js: false },
  { name: 'wr', field: 'wr', params: [T.i32, T.i64, T.i32, T.i64, T.i64], results: [], js: false },
  { name: 'rd128', field: 'rd128', params: [T.i32, T.i64, T.i64], results: [T.i32], js: true },
  { name: 'wr128', field: 'wr128', params: [T.i32, T.i64, T.i64], results: [], js: true },
  { name: 'flags_of', field: 'getFlags', params: [T.i32, T.i64, T.i64, T.i64], results: [T.i32], js: false },
  { name: 'op', field: 'op', params: [T.i32, T.i32], results: [T.i32], js: true },
  { name: 'chain', field: 'chain', params: [T.i32, T.i32], results: [T.i32], js: false },
  // USM events without leaving Wasm (vmx/usm-fast/module.ts).
  { name: 'usm_raise', field: 'usmRaise', params: [T.i32], results: [T.i32], js: false },
  { name: 'usm_iret', field: 'usmIret', params: [T.i32], results: [T.i32], js: false },
  { name: 'usm_syscall', field: 'usmSyscall', params: [T.i32, T.i64], results: [T.i32], js: false },
  { name: 'usm_resume', field: 'usmResume', params: [T.i32], results: [T.i32], js: false },
  { name: 'usm_invlpg', field: 'usmInvlpg', params: [T.i32, T.i64], results: [T.i32], js: false },
] as const satisfies readonly { name: string; field: keyof RuntimeImports; params: readonly T[]; results: readonly T[]; js: boolean }[];

export type RuntimeFuncName = (typeof RUNTIME_FUNCS)[number]['name'];
/** The functions themselves: TypeScript for the `js` ones, runtime Wasm exports for the rest. */
export type RuntimeFuncValues = Record<RuntimeFuncName, WebAssembly.ExportValue | ((...a: never[]) => unknown)>;

/**
 * Declares the runtime functions' types in a region module (before any other type) and says how
 * to call each one.
 */
export function declareRuntimeCalls(m: ModuleBuilder): RuntimeImports {
  const out: Partial<Record<keyof RuntimeImports, RtCall>> = {};
  RUNTIME_FUNCS.forEach((d, slot) => { out[d.field] = { slot, type: m.type([...d.params], [...d.results]) }; });
  return out as RuntimeImports;
}

let bridgeModule: WebAssembly.Module | undefined;

/** Builds the runtime table (imported by every region as env.table). */
export function buildRuntimeTable(values: RuntimeFuncValues, memory: WebAssembly.Memory): WebAssembly.Table {
  const js = RUNTIME_FUNCS.filter((d) => d.js);
  // The bridge module is the same for every machine: compiled once per process.
  bridgeModule ??= (() => {
    const m = new ModuleBuilder({ memoryPages: 1, memoryMax: 65536, tableMin: 1, noTable: true });
    const idx = js.map((d) => m.importFunc('js', d.name, [...d.params], [...d.results]));
    js.forEach((d, k) => {
      const f = new Fn([...d.params], [...d.results]);
      for (let p = 0; p < d.params.length; p++) f.get(p);
      f.call(idx[k]);
      m.export(d.name, m.add(f));
    });
    return new WebAssembly.Module(m.emit());
  })();
  const jsImports = Object.fromEntries(js.map((d) => [d.name, values[d.name]]));
  const bridge = new WebAssembly.Instance(bridgeModule, { env: { mem: memory }, js: jsImports as WebAssembly.ModuleImports });
  const table = new WebAssembly.Table({ element: 'anyfunc', initial: RUNTIME_FUNCS.length });
  RUNTIME_FUNCS.forEach((d, slot) => table.set(slot, (d.js ? bridge.exports[d.name] : values[d.name]) as () => unknown));
  return table;
}
