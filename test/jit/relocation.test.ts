import { describe, expect, it } from 'vitest';
import { Bytes, Fn, ModuleBuilder, Reloc, T } from '../../src/jit/wasm/encoder.js';
import { imageOf, link, relocate } from '../../src/jit/relocation.js';
import { COUNTERS_BASE, SLOTS_BASE } from '../../src/core/layout.js';

/**
 * Relocatable region bodies (jit/relocation.ts, the persistent translation cache): the encoder
 * records where each relocatable constant lands in the finished body, also when a prologue and
 * late code (Fn.placeholder) are spliced in before it, and relocate() rewrites exactly those
 * bytes. Checked by running the code: each function returns the sum of its constants, weighted.
 */

/**
 * A body returning slot + op * 1000 + region * 1e6, plus 1 if its counter's address is not region
 * `region`'s, with a prologue and late code in between.
 */
function body(slot: number, op: number, region: number): Fn {
  const f = new Fn([], [T.i32]);
  f.prologue.u8(0x01); // nop, run first
  f.i32_reloc(Reloc.Slot, SLOTS_BASE + 4 * slot).i32(SLOTS_BASE).i32_sub().i32(2).i32_shr_u();
  // Late code spliced in at this point: 3 nops whose length shifts everything after.
  f.placeholder(() => { const b = new Bytes(); b.u8(0x01); b.u8(0x01); b.u8(0x01); return b; });
  f.i32_reloc(Reloc.Op, op).i32(1000).i32_mul().i32_add();
  f.placeholder(() => new Bytes());
  f.i32_reloc(Reloc.Region, region).i32(1_000_000).i32_mul().i32_add();
  f.i32_reloc(Reloc.Counter, COUNTERS_BASE + 4 * region).i32(COUNTERS_BASE + 4 * region).i32_ne().i32_add();
  return f;
}

function run(bytes: Uint8Array, name: string): number {
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), { env: { mem: new WebAssembly.Memory({ initial: 1, maximum: 65536 }), table: new WebAssembly.Table({ element: 'anyfunc', initial: 1 }) } });
  return (inst.exports[name] as () => number)();
}

describe('relocatable bodies', () => {
  it('finds every relocatable constant after the prologue and late code, and relocate() rewrites them', () => {
    const f = body(7, 3, 5);
    const m = new ModuleBuilder({ memoryPages: 1, memoryMax: 65536, tableMin: 1 });
    m.export('f', m.add(f));
    expect(run(m.emit(), 'f')).toBe(7 + 3000 + 5_000_000);
    // The process numbered this region's chain slots from 6 and its ops from 2: ordinals 1 and 1.
    const img = imageOf(f, 6, [0x402000, 0x403000], 2, [0x401000, 0x401000]);
    expect([...img.relocs].filter((_, k) => k % 3 === 1)).toEqual([Reloc.Slot, Reloc.Op, Reloc.Region, Reloc.Counter]);
    const moved = relocate(img, { tableSlot: 9, funcIndex: 0, slotBase: 100, opBase: 40 });
    const m2 = new ModuleBuilder({ memoryPages: 1, memoryMax: 65536, tableMin: 1 });
    m2.export('f', m2.add({ params: [], results: [T.i32], body: () => moved }));
    // (+1: the counter's address moved with the region, away from the constant it is compared with.)
    expect(run(m2.emit(), 'f')).toBe(101 + 41_000 + 9_000_000 + 1);
  });

  it('links stored regions into one module, each numbered from a fresh process\'s start', () => {
    const regions = [body(1, 0, 1), body(4, 7, 2), body(2, 5, 3)].map((f, k) => ({
      tag: 0, blocks: [], opIr: [], notes: [], indirect: [], exits: [], regsInMemory: false,
      // Each used 2 chain slots and 1 op (its ordinal-1 slot and ordinal-0 op above).
      image: imageOf(f, [0, 3, 1][k], [0x2000, 0x3000], [0, 7, 5][k], [0x1000]),
    }));
    const linked = link(regions, () => {}, 1);
    expect(linked.numbering.map((n) => [n.tableSlot, n.slotBase, n.opBase])).toEqual([[1, 1, 0], [2, 3, 1], [3, 5, 2]]);
    expect(linked.slots).toBe(7);
    expect(linked.ops).toBe(3);
    for (let k = 0; k < 3; k++) {
      const n = linked.numbering[k];
      expect(run(linked.module, String(k))).toBe(n.slotBase + 1 + 1000 * n.opBase + 1_000_000 * n.tableSlot);
    }
    // `bodies` says where each function's body is (the store keeps images only there): each one
    // is its image relocated, so relocating the module's copy gives the same bytes.
    for (let k = 0; k < 3; k++) {
      const copy = linked.module.subarray(linked.bodies[2 * k], linked.bodies[2 * k + 1]);
      expect([...copy]).toEqual([...relocate(regions[k].image, linked.numbering[k])]);
      expect([...relocate({ ...regions[k].image, body: copy }, linked.numbering[k])]).toEqual([...copy]);
    }
  });

  it('links direct chaining: a chain slot whose target block is in the module names its entry and function', () => {
    // Region k returns Linked * 1e6 + DirectEntry(slot 0), or, called with 1, tail-calls
    // DirectFunc(slot 0) with 0.
    const region = (): Fn => {
      const f = new Fn([T.i32], [T.i32]);
      f.get(0).if_();
      f.i32(0).return_call_reloc(0, Reloc.DirectFunc, 0);
      f.end();
      f.i32_reloc(Reloc.Linked, 0).i32(1_000_000).i32_mul().i32_reloc(Reloc.DirectEntry, 0, 0).i32_add();
      return f;
    };
    const stored = (start: number, targets: number[]) => {
      const f = region();
      return {
        tag: 0, opIr: [], notes: [], indirect: [], exits: targets, regsInMemory: true,
        blocks: [{ start, end: start + 4, code: new Uint8Array(4), insnCount: 1 }, { start: start + 4, end: start + 8, code: new Uint8Array(4), insnCount: 1 }],
        image: imageOf(f, 0, targets, 0, []),
      };
    };
    // Region 0 exits to region 1's second block; region 1 to an address no region holds.
    const linked = link([stored(0x1000, [0x2004]), stored(0x2000, [0x9000])], () => {}, 1);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(linked.module as Uint8Array<ArrayBuffer>), { env: { mem: new WebAssembly.Memory({ initial: 1, maximum: 65536 }), table: new WebAssembly.Table({ element: 'anyfunc', initial: 1 }) } });
    const call = (k: number, arg: number) => (inst.exports[String(k)] as (a: number) => number)(arg);
    const entry1 = (linked.numbering[1].tableSlot << 8) | 1;
    expect(call(0, 0)).toBe(1_000_000 + entry1);
    expect(call(1, 0)).toBe(0); // no direct target: Linked 0, entry 0
    // Region 0's direct function is region 1 (region 0 itself would return 1e6 + entry1).
    expect(call(0, 1)).toBe(0);
    expect(call(1, 1)).toBe(0); // no target: DirectFunc is the region itself
    // Compiled alone (no target resolver), the constants keep their emitted values.
    const alone = relocate(stored(0x1000, [0x2004]).image, { tableSlot: 5, funcIndex: 0, slotBase: 1, opBase: 0 });
    const m = new ModuleBuilder({ memoryPages: 1, memoryMax: 65536, tableMin: 1 });
    m.export('f', m.add({ params: [T.i32], results: [T.i32], body: () => alone }));
    expect(run(m.emit(), 'f')).toBe(0);
  });
});
