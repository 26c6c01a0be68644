import { COUNTERS_BASE, SLOTS_BASE } from '../core/layout.js';
import type { Insn } from '../decoder/ir.js';
import { codeKey, entryOf } from './entry.js';
import type { UntranslatedNote } from './translate.js';
import { ModuleBuilder, Reloc, writeLeb5, type Fn, type T } from './wasm/encoder.js';

/**
 * A region's compiled body in a form another process can load (the persistent translation cache,
 * translation-store.ts): the Wasm function body plus its relocatable constants, each named by its
 * kind and its ordinal within the region (its n-th chain slot, its n-th JS op).
 */
export interface RegionImage {
  body: Uint8Array;
  /** Triples (body offset, Reloc kind, ordinal). */
  relocs: Int32Array;
  /** Chain slots and JS ops the region uses, numbered 0.. in relocs. */
  slots: number;
  ops: number;
  /** The address of the instruction each op belongs to, in op order. */
  opInsns: number[];
  /** The guest address each chain slot leads to, in slot order (direct chaining when linked). */
  slotTargets: number[];
  /** The function's signature (every region has the same one today). */
  params: T[];
  results: T[];
}

/** Where a region's numbers start in one process (or one stored module). */
export interface Numbering {
  tableSlot: number;
  funcIndex: number;
  slotBase: number;
  opBase: number;
}

/**
 * The image of a freshly compiled body: its constants, emitted with this process's numbers, become
 * ordinals relative to the first chain slot and op id the compile allocated.
 */
export function imageOf(fn: Fn, firstSlot: number, slotTargets: number[], firstOp: number, opInsns: number[]): RegionImage {
  const slots = slotTargets.length;
  const ops = opInsns.length;
  const done = fn.finish();
  const relocs = new Int32Array(done.relocs.length * 3);
  done.relocs.forEach((r, k) => {
    let ord = r.ord ?? 0;
    if (r.kind === Reloc.Slot) ord = (r.value - SLOTS_BASE) / 4 - firstSlot;
    else if (r.kind === Reloc.Op) ord = r.value - firstOp;
    relocs[3 * k] = r.at;
    relocs[3 * k + 1] = r.kind;
    relocs[3 * k + 2] = ord;
  });
  return { body: done.bytes, relocs, slots, ops, opInsns, slotTargets: slotTargets.slice(), params: fn.params, results: fn.results };
}

/** A chain slot's target in the same module: its function and the entry that names it there. */
export interface DirectTarget { func: number; entry: number }

/**
 * The body with its constants rewritten for numbering `n` (a copy); `direct(k)` says where the
 * region's k-th chain slot leads in the same module, if it does (Reloc.DirectEntry...).
 */
export function relocate(img: RegionImage, n: Numbering, direct: (slot: number) => DirectTarget | undefined = () => undefined): Uint8Array {
  const out = img.body.slice();
  const r = img.relocs;
  let linked = false;
  const targets: (DirectTarget | undefined)[] = [];
  for (let k = 0; k < img.slots; k++) {
    targets.push(direct(k));
    if (targets[k]) linked = true;
  }
  for (let k = 0; k < r.length; k += 3) {
    const ord = r[k + 2];
    let v: number;
    switch (r[k + 1] as Reloc) {
      case Reloc.Slot: v = SLOTS_BASE + 4 * (n.slotBase + ord); break;
      case Reloc.Region: v = n.tableSlot; break;
      case Reloc.Counter: v = COUNTERS_BASE + 4 * n.tableSlot; break;
      case Reloc.Func: v = n.funcIndex; break;
      case Reloc.Op: v = n.opBase + ord; break;
      case Reloc.Linked: v = linked ? 1 : 0; break;
      case Reloc.DirectEntry: v = targets[ord]?.entry ?? 0; break;
      case Reloc.DirectFunc: v = targets[ord]?.func ?? n.funcIndex; break;
      default: throw new Error(`bad relocation kind ${r[k + 1]}`);
    }
    writeLeb5(out, r[k], v);
  }
  return out;
}

/** A region as the persistent translation cache keeps it: enough to validate, install and grow it. */
export interface StoredRegion {
  tag: number;
  blocks: StoredBlock[];
  /**
   * The IR of the instructions its JS-implemented ops belong to (image.opInsns), in emission order:
   * emitting them again rebuilds the ops' closures.
   */
  opIr: Insn[];
  /** Instructions it raises #UD for (translate.ts), for the report if the guest reaches one. */
  notes: UntranslatedNote[];
  indirect: number[];
  exits: number[];
  image: RegionImage;
  /** Its guest registers are in the CPU block (code-cache.ts registerPlacement). */
  regsInMemory: boolean;
  /**
   * Its blocks that the run which stored it entered in another region (growth copies blocks into
   * a region; the other copy may be the promoted one): a later run enters them there too.
   */
  copies?: number[];
}

/**
 * A stored block: its code bytes, checked against guest memory before the region is installed.
 * Its IR is not kept (it is decoded again if its region grows).
 */
export interface StoredBlock {
  start: number;
  end: number;
  code: Uint8Array;
  insnCount: number;
}

/** Stored regions linked into one module: region k is function k, export `${k}`, numbered `numbering[k]`. */
export interface LinkedRegions {
  regions: StoredRegion[];
  numbering: Numbering[];
  /** Chain slots and op ids the module's numbering uses (1.., 0..): a process reserves them. */
  slots: number;
  ops: number;
  module: Uint8Array;
  /** Where region k's function body lies in `module`: (start, end) at 2k, 2k + 1. */
  bodies: Int32Array;
}

/**
 * Links stored regions into one module, numbered densely from the start of a fresh process's
 * spaces: table slot 1 + k, chain slots from 1, op ids from 0.
 */
export function link(regions: StoredRegion[], declare: (m: ModuleBuilder) => void, tableMin: number): LinkedRegions {
  let slots = 1, ops = 0;
  const parts = regions.map((r, k) => {
    const at = { tableSlot: 1 + k, slotBase: slots, opBase: ops };
    slots += r.image.slots;
    ops += r.image.ops;
    return { image: r.image, at };
  });
  const index = blockIndex(regions);
  const { module, numbering, bodies } = linkImages(parts, declare, tableMin, undefined, (k, target) => {
    const j = index.get(codeKey(target, regions[k].tag));
    if (j === undefined) return undefined;
    const pc = regions[j].blocks.findIndex((b) => b.start === target);
    return pc < 0 ? undefined : { part: j, pc };
  });
  return { regions, numbering, slots, ops, module, bodies };
}

/**
 * Which stored region a later run enters each block in (codeKey -> region): where the storing
 * run entered it, then (a file without copies lists) the first region holding it.
 */
export function blockIndex(regions: StoredRegion[]): Map<number, number> {
  const index = new Map<number, number>();
  const copies: [StoredRegion, number][] = [];
  regions.forEach((r, k) => {
    if (r.copies) copies.push([r, k]);
    for (const b of r.blocks) {
      const key = codeKey(b.start, r.tag);
      if (!index.has(key) && !r.copies?.includes(b.start)) index.set(key, k);
    }
  });
  for (const [r, k] of copies) {
    for (const a of r.copies!) if (!index.has(codeKey(a, r.tag))) index.set(codeKey(a, r.tag), k);
  }
  return index;
}

/**
 * One module whose function k (export `${k}`) is image k relocated to the numbers `at` gives it
 * (its function index is its place here): the store's link, and CodeCache.relink in a run.
 * `hints`: ModuleBuilder's compilation-hints byte for every function. `target(k, rip)`: the part
 * (and its block number) that part k's direct exits to `rip` enter, if one of this module's: such an
 * exit calls it directly when its chain slot holds that entry (a region crossing without the
 * runtime's `chain` and its two indirect calls: Emitter.emitExitTail).
 */
export function linkImages(parts: { image: RegionImage; at: Omit<Numbering, 'funcIndex'> }[], declare: (m: ModuleBuilder) => void,
  tableMin: number, hints?: number, target?: (part: number, rip: number) => { part: number; pc: number } | undefined): { module: Uint8Array<ArrayBuffer>; numbering: Numbering[]; bodies: Int32Array } {
  const m = new ModuleBuilder({ memoryPages: 1, memoryMax: 65536, tableMin, ...(hints !== undefined ? { hints } : {}) });
  declare(m);
  const base = m.imports.length;
  const numbering = parts.map(({ image, at }, k) => {
    const n: Numbering = { ...at, funcIndex: base + k };
    const body = relocate(image, n, (slot) => {
      const rip = image.slotTargets?.[slot];
      const t = rip === undefined || !target ? undefined : target(k, rip);
      return t && { func: base + t.part, entry: entryOf(parts[t.part].at.tableSlot, t.pc) };
    });
    m.export(String(k), m.add({ params: image.params, results: image.results, body: () => body }));
    return n;
  });
  const module = m.emit();
  return { module, numbering, bodies: m.bodies! };
}
