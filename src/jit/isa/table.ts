import type { Insn } from '../../decoder/ir.js';
import { X86_INSN_NAMES } from '../../decoder/x86-ids.js';
import type { Vector } from '../../core/exits.js';
import { ARITH_FLAGS } from '../../core/rflags.js';
import type { EmitFn } from './types.js';

/**
 * The instruction definition table: Capstone instruction id -> what the translator knows about the
 * instruction (its emitter and its facts). Every instruction fact the translator uses (block ends,
 * successors, privilege, flag liveness, SSE alignment, the exact-FP variant) is read from here,
 * never from mnemonic lists. Families (alu.ts, sse.ts...) stay tables of small emitters keyed by
 * Capstone's instruction name (x86-ids.ts: the id's name); index.ts assembles them, by id.
 *
 * Capstone's key is not always the instruction, so two documented refinements:
 * - `movsd` and `cmpsd` are one id each for the string instruction and the SSE one: the entry's
 *   `sse` holds the SSE form's definition, chosen when the opcode starts with the 0F escape.
 * - x87 ids are ambiguous (`faddp st(1)` comes back as X86_INS_FADD): opcodes D8..DF are looked
 *   up in the x87 sub-map by opcode byte and ModRM (x87Key) instead.
 */

/** The arithmetic flags (CF PF AF ZF SF OF) an instruction reads and writes, as RFLAGS masks: liveness. */
export interface FlagUse { reads: number; writes: number }
export const FLAGS_NONE: FlagUse = { reads: 0, writes: 0 };
/** Writes all six without reading any: earlier flag results are dead. */
export const FLAGS_KILL: FlagUse = { reads: 0, writes: ARITH_FLAGS };
/** The default for an instruction that declares nothing: it may read them all. */
export const FLAGS_ANY: FlagUse = { reads: ARITH_FLAGS, writes: ARITH_FLAGS };

/** An emitter that neither reads nor writes the arithmetic flags. */
export const noFlags = (emit: EmitFn): InsnSpec => ({ emit, flags: FLAGS_NONE });
/** An emitter that writes all six arithmetic flags without reading any. */
export const killsFlags = (emit: EmitFn): InsnSpec => ({ emit, flags: FLAGS_KILL });

/**
 * How an instruction ends its block, for block discovery and the static successors a batch
 * translates along:
 * - 'none': not at all (falls through);
 * - 'jcc': conditional direct branch (jcc, loop*, jrcxz): the next instruction and the target;
 * - 'jmp': direct (its target) or indirect (no static successor);
 * - 'call': its direct target and the return address;
 * - 'ret': no static successor;
 * - 'exit': leaves to the runtime and resumes at the next instruction (syscall);
 * - 'stop': raises or leaves to the runtime with nothing known after it (ud2, int, iretq, hlt,
 *   vmcall...: some of these resume at the next instruction too, but not on a path worth
 *   translating ahead).
 */
export type Branch = 'none' | 'jcc' | 'jmp' | 'call' | 'ret' | 'exit' | 'stop';

/** What a family says about one instruction; everything but `emit` has a default. */
export interface InsnSpec {
  /** The translation (the fast one for SSE floating point). */
  emit: EmitFn;
  /** Exact-FP translation (isa/sse-precise.ts), used instead of `emit` once the guest wrote MXCSR. */
  precise?: EmitFn;
  /** Flags read/written, or a function of the operands (shifts); default FLAGS_ANY. */
  flags?: FlagUse | ((i: Insn) => FlagUse);
  /** Default 'none'. */
  branch?: Branch;
  /**
   * USM modes: the instruction runs in TypeScript (vmx/privileged.ts) instead of `emit`, which
   * is then the Linux-mode translation (usually #GP). See privilege.ts.
   */
  usm?: boolean;
  /** Privileged: at CPL3 it raises `cpl3Fault` (default #GP) instead of running. */
  cpl0?: boolean;
  /** The fault a `cpl0` instruction raises at CPL3 (vmcall: #UD). */
  cpl3Fault?: Vector;
  /**
   * Alignment a 16-byte memory operand must have, else #GP(0). Legacy SSE: 16 (the default);
   * 1 for the forms exempt from the check (movups, lddqu, the SSE4.2 string compares...).
   */
  align?: number;
  /**
   * Uses the x87/SSE state: with USM CR0.TS set it raises #NM (device not available) instead
   * (default false; the x87 and SSE families set it, except movnti and crc32).
   */
  fpu?: boolean;
}

/** A table entry: a spec with its defaults filled in. */
export interface InsnDef extends Required<Omit<InsnSpec, 'precise' | 'cpl3Fault'>> {
  precise?: EmitFn;
  cpl3Fault?: Vector;
  /** The block ends after this instruction (branch !== 'none'). */
  ends: boolean;
  /** The definition of the SSE (0F-escape) form of an id shared with a string instruction. */
  sse?: InsnDef;
}

/** Name -> id for the names families use (Capstone's instruction names). */
const ID = new Map(X86_INSN_NAMES.map((n, k) => [n, k]));

export function insnId(name: string): number {
  const id = ID.get(name);
  if (id === undefined) throw new Error(`not a Capstone x86 instruction name: ${name}`);
  return id;
}

export function define(spec: InsnSpec | EmitFn, defaults: Partial<InsnSpec> = {}): InsnDef {
  const s = typeof spec === 'function' ? { ...defaults, emit: spec } : { ...defaults, ...spec };
  const branch = s.branch ?? 'none';
  return {
    emit: s.emit, precise: s.precise, flags: s.flags ?? FLAGS_ANY, branch, ends: branch !== 'none',
    usm: s.usm ?? false, cpl0: s.cpl0 ?? false, cpl3Fault: s.cpl3Fault, align: s.align ?? 16,
    fpu: s.fpu ?? false,
  };
}

/** The x87 sub-map's key: opcode byte D8..DF and ModRM (memory forms by the reg field only). */
export function x87Key(opcode: number, modrm: number): number {
  return ((opcode - 0xd8) << 8) | (modrm < 0xc0 ? modrm & 0x38 : modrm);
}

export class InsnTable {
  private readonly byId: (InsnDef | undefined)[] = [];
  private readonly x87: (InsnDef | undefined)[] = new Array(8 << 8);
  /** Every name defined, pseudo-op mnemonics and x87 mnemonics included (tools: test/diff). */
  readonly names = new Set<string>();

  /**
   * Adds a family; `defaults` apply to each of its entries, `precise` gives exact-FP variants by
   * name. A name already defined is an error, except the `shared` ones (movsd, cmpsd): those
   * become the existing entry's SSE form.
   */
  add(family: Record<string, EmitFn | InsnSpec>, defaults: Partial<InsnSpec> = {},
    opts: { shared?: string[]; precise?: Record<string, EmitFn> } = {}): void {
    const shared = opts.shared ?? [];
    for (const [name, spec] of Object.entries(family)) {
      const id = insnId(name);
      const def = define(spec, defaults);
      def.precise ??= opts.precise?.[name];
      const old = this.byId[id];
      if (old && shared.includes(name)) old.sse = def;
      else if (old) throw new Error(`instruction ${name} defined twice`);
      else this.byId[id] = def;
      this.names.add(name);
    }
  }

  /**
   * Adds a family whose names may exist already: where `applies(i)`, an instruction takes the new
   * emitter (and no exact-FP variant); otherwise the existing entry's. New names get `defaults`.
   */
  overlay(family: Record<string, EmitFn>, applies: (i: Insn) => boolean, defaults: Partial<InsnSpec>): void {
    for (const [name, fn] of Object.entries(family)) {
      const id = insnId(name);
      const old = this.byId[id];
      if (!old) {
        this.byId[id] = define(fn, defaults);
      } else {
        const { emit, precise } = old;
        this.byId[id] = {
          ...old,
          emit: (e, i, env) => (applies(i) ? fn : emit)(e, i, env),
          precise: precise && ((e, i, env) => (applies(i) ? fn : precise)(e, i, env)),
        };
      }
      this.names.add(name);
    }
  }

  /** Adds the x87 sub-map: x87Key -> definition. */
  addX87(entries: Iterable<[number, InsnDef]>, mnemonics: string[]): void {
    for (const [k, def] of entries) {
      if (this.x87[k]) throw new Error(`x87 opcode ${k.toString(16)} defined twice`);
      this.x87[k] = def;
    }
    for (const m of mnemonics) this.names.add(m);
  }

  /** Names known to the table but not ids of their own (the SSE compare pseudo-ops). */
  alias(names: string[]): void {
    for (const n of names) this.names.add(n);
  }

  /** The instruction's definition, or undefined if the translator does not know it (#UD). */
  lookup(i: Insn): InsnDef | undefined {
    const op0 = i.opcode[0];
    if (op0 >= 0xd8 && op0 <= 0xdf) return this.x87[x87Key(op0, i.modrm)];
    const d = this.byId[i.id];
    return d?.sse && op0 === 0x0f ? d.sse : d;
  }
}
