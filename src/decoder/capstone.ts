import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Capstone } from 'capstone-wasm';
import type { Insn, MemOperand, Operand, RegFile, RegOperand } from './ir.js';
import { X86_INSN_NAMES } from './x86-ids.js';
import { fastDecode } from './fast-decode.js';

/**
 * Capstone (capstone-wasm, Capstone 5.0, detail on) driven through its C API so that operand
 * detail can be read straight out of Capstone's wasm heap; the package's own disasm() throws the
 * detail away. Struct offsets (wasm32, checked by test/decoder): cs_insn is 240 bytes with the
 * detail pointer at 236; cs_detail's cs_x86 starts at +88; in cs_x86: prefix[4] +0, opcode[4] +4,
 * rex +8, addr_size +9, modrm +10, disp +16, op_count +64, operands[8] (48 bytes each) +72; in an
 * operand: type +0, reg/imm +8, mem {segment +8, base +12, index +16, scale +20, disp +24}, size +32.
 */
const INSN_SIZE = 240;
const X86 = 88;
const OP_BASE = 72;
const OP_SIZE = 48;
const OP_REG = 1, OP_IMM = 2, OP_MEM = 3;

/** Capstone's emscripten module: its heap views and the C functions decode() calls directly. */
interface Heap {
  HEAPU8: Uint8Array; HEAPU32: Uint32Array; HEAP32: Int32Array; HEAP64: BigInt64Array; HEAPU16: Uint16Array;
  _cs_disasm(handle: number, code: number, size: number, address: bigint, count: number, insn: number): number;
  _cs_free(insn: number, count: number): void;
  _malloc(size: number): number;
  _free(p: number): void;
}

const GPR64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'];

/** Maps a Capstone register name to our register description. */
function classify(name: string): { file: RegFile; n: number; size: number } {
  let m: RegExpMatchArray | null;
  const legacy = (base: string) => GPR64.findIndex((r) => r.slice(1) === base);
  if ((m = name.match(/^r([0-9]+)([dwb]?)$/))) {
    const size = m[2] === 'd' ? 4 : m[2] === 'w' ? 2 : m[2] === 'b' ? 1 : 8;
    return { file: 'gpr', n: +m[1], size };
  }
  const i64 = GPR64.indexOf(name);
  if (i64 >= 0) return { file: 'gpr', n: i64, size: 8 };
  if (name.length === 3 && name[0] === 'e' && legacy(name.slice(1)) >= 0) return { file: 'gpr', n: legacy(name.slice(1)), size: 4 };
  const w = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'].indexOf(name);
  if (w >= 0) return { file: 'gpr', n: w, size: 2 };
  const b = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil'].indexOf(name);
  if (b >= 0) return { file: 'gpr', n: b, size: 1 };
  const h = ['ah', 'ch', 'dh', 'bh'].indexOf(name);
  if (h >= 0) return { file: 'gprh', n: h, size: 1 };
  if ((m = name.match(/^xmm([0-9]+)$/))) return { file: 'xmm', n: +m[1], size: 16 };
  if ((m = name.match(/^ymm([0-9]+)$/))) return { file: 'ymm', n: +m[1], size: 32 };
  if ((m = name.match(/^mm([0-7])$/))) return { file: 'mm', n: +m[1], size: 8 };
  if ((m = name.match(/^st\(([0-7])\)$/))) return { file: 'st', n: +m[1], size: 10 };
  if ((m = name.match(/^cr([0-9]+)$/))) return { file: 'cr', n: +m[1], size: 8 };
  if ((m = name.match(/^dr([0-9]+)$/))) return { file: 'dr', n: +m[1], size: 8 };
  const s = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'].indexOf(name);
  if (s >= 0) return { file: 'seg', n: s, size: 2 };
  if (name === 'rip') return { file: 'rip', n: 0, size: 8 };
  return { file: 'other', n: 0, size: 0 };
}

const PREFIX_WORDS = new Set(['rep', 'repe', 'repne', 'repz', 'repnz', 'lock', 'bnd', 'notrack', 'xacquire', 'xrelease']);

/** The mnemonic without prefix words ('rep movsb' -> 'movsb'). */
function opName(mnemonic: string): string {
  if (mnemonic.indexOf(' ') < 0) return mnemonic; // the common case: no prefix word
  const words = mnemonic.split(' ');
  let k = 0;
  while (k < words.length - 1 && PREFIX_WORDS.has(words[k])) k++;
  return words[k];
}

/** The NUL-terminated ASCII string at `at` (at most `max` bytes): short, so a loop beats apply(). */
function cstr(u8: Uint8Array, at: number, max: number): string {
  let s = '';
  for (let k = at, end = at + max; k < end; k++) {
    const c = u8[k];
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

const insnId = (name: string): number => X86_INSN_NAMES.indexOf(name);
/**
 * Capstone 5 gives the SSE compare pseudo-ops (0F C2 with a predicate 0..7: cmpltps, cmpordsd...)
 * the id X86_INS_CMPPD + predicate, whatever the type: cmpordps comes back as X86_INS_CMPXCHG16B,
 * cmpunordss as X86_INS_CMPSD. Their mnemonic's suffix gives the real instruction.
 */
const SSE_CMP: Record<string, number> = {
  ps: insnId('cmpps'), pd: insnId('cmppd'), ss: insnId('cmpss'), sd: insnId('cmpsd'),
};

/**
 * Thrown by decode() while Capstone is still loading (a deferred decoder): the caller's work is
 * retried once `ready()` resolves (vmx/machine.ts run() returns DECODER_PENDING).
 */
export class DecoderPending extends Error {}

/**
 * An instruction as the decoder makes it: ir.ts's Insn, whose text only diagnostics read, so it is
 * decoded again from the bytes when asked (on the prototype: a copy by spread or by the
 * translation store's serializer has no text). Read at decode time, the operand text (a string
 * built a character at a time) was ~8 of the 94 MB a cold busybox sh start allocated.
 */
class DecodedInsn implements Insn {
  private view?: Uint8Array;
  /** `src[at..at + len]` are the instruction's bytes (a view is made only when asked: few are). */
  constructor(readonly addr: number, readonly len: number, readonly id: number,
    readonly op: string, readonly opcode: readonly number[], readonly modrm: number, readonly ops: Operand[],
    readonly rep: number, readonly lock: boolean, readonly opsize: boolean, readonly rexW: boolean,
    readonly src: Uint8Array, readonly at: number) {}

  get bytes(): Uint8Array {
    return (this.view ??= this.src.subarray(this.at, this.at + this.len));
  }

  get text(): string {
    return loaded?.textOf(this.bytes, this.addr) ?? '';
  }
}

/**
 * A copy of the code bytes of consecutive instructions (a block's, kept when its IR is released):
 * one slice when they were decoded in order from one buffer (the copy a batch fetched,
 * decoder/block.ts), else their bytes joined. (Copying per instruction, the release took 52 ms of
 * a cold static hello world's 770 ms CPU profile: it runs while usmjit's JavaScript is still cold.)
 */
export function codeOf(insns: readonly Insn[]): Uint8Array {
  if (insns.length === 0) return new Uint8Array(0);
  const first = insns[0];
  if (first instanceof DecodedInsn) {
    let at = first.at;
    let k = 0;
    for (; k < insns.length; k++) {
      const i = insns[k];
      if (!(i instanceof DecodedInsn) || i.src !== first.src || i.at !== at) break;
      at += i.len;
    }
    if (k === insns.length) return first.src.slice(first.at, at);
  }
  let n = 0;
  for (const i of insns) n += i.len;
  const out = new Uint8Array(n);
  let at = 0;
  for (const i of insns) { out.set(i.bytes, at); at += i.len; }
  return out;
}
/** A loaded decoder, for DecodedInsn.text (any one decodes the same bytes alike). */
let loaded: Decoder | undefined;

type CapstoneModule = typeof import('capstone-wasm');

export class Decoder {
  private cs!: Capstone;
  private heap!: Heap;
  private regs: (ReturnType<typeof classify> & { name: string })[] = [];
  private ppInsn = 0;
  /** A buffer in Capstone's heap for the bytes to decode, and its size. */
  private codeBuf = 0;
  private codeCap = 0;
  private loading?: Promise<void>;
  /** Instructions decoded so far (statistics), and how many of them without Capstone. */
  decoded = 0;
  fastDecoded = 0;
  /** Decode the common forms in TypeScript (fast-decode.ts); USMJIT_FAST_DECODE=0: all by Capstone. */
  fast = process.env.USMJIT_FAST_DECODE !== '0';

  /** A decoder with Capstone loaded. */
  static async create(): Promise<Decoder> {
    const d = new Decoder();
    await d.ready();
    return d;
  }

  /**
   * A decoder that loads Capstone (tens of milliseconds, and V8 optimising its module in the
   * background) only when first asked to decode: a run whose translations all come from the
   * persistent translation cache never does.
   */
  static deferred(): Decoder {
    return new Decoder();
  }

  /** Whether Capstone is loaded. */
  get loaded(): boolean {
    return this.cs !== undefined;
  }

  /** Loads Capstone (once). */
  ready(): Promise<void> {
    this.loading ??= (async () => {
      // require, not import(): the bundled CLI runs as a script (scripts/usmjit-launcher.cjs).
      const require = createRequire(import.meta.url);
      const lib = require('capstone-wasm') as CapstoneModule;
      // Instantiated synchronously, so V8 compiles Capstone's functions lazily on this thread as
      // they are first called (a few dozen) instead of the whole 1.7 MB module on background
      // threads: measured 560 ms of waiting for those on this loaded 2-core machine.
      const wasm = readFileSync(join(dirname(require.resolve('capstone-wasm')), 'capstone.wasm'));
      const heap = {
        instantiateWasm(imports: WebAssembly.Imports, receive: (i: WebAssembly.Instance) => void) {
          const inst = new WebAssembly.Instance(new WebAssembly.Module(wasm), imports);
          receive(inst);
          return inst.exports;
        },
      } as unknown as Heap;
      await lib.loadCapstone(heap as unknown as Record<string, unknown>);
      this.heap = heap;
      const cs = new lib.Capstone(lib.Const.CS_ARCH_X86, lib.Const.CS_MODE_64);
      cs.setOption(lib.Const.CS_OPT_DETAIL, lib.Const.CS_OPT_ON);
      for (let i = 0; i < 512; i++) {
        const name = (cs.getRegName(i) as string | null) ?? '';
        this.regs.push({ ...classify(name), name });
      }
      this.ppInsn = lib.Capstone.call('malloc', 4);
      this.cs = cs;
      loaded = this;
    })();
    return this.loading;
  }

  private reg(id: number, size?: number): RegOperand {
    const r = this.regs[id] ?? { file: 'other', n: 0, size: 0, name: `reg${id}` };
    return { kind: 'reg', file: r.file, n: r.n, size: size || r.size, name: r.name };
  }

  /**
   * Decodes up to `max` instructions from `bytes` (guest address `addr`). Stops early at the first
   * undecodable instruction; the caller sees fewer instructions than the bytes would hold. Each
   * instruction's `bytes` is a view of `bytes`, which the caller must not change afterwards (the
   * code fetch hands over a copy of guest memory).
   */
  decode(bytes: Uint8Array, addr: number, max: number): Insn[] {
    if (!this.cs) {
      void this.ready().catch(() => { /* the caller's await of ready() reports it */ });
      throw new DecoderPending('Capstone is loading');
    }
    const out: Insn[] = [];
    let off = 0;
    // The common forms without Capstone (fast-decode.ts), the others one at a time by Capstone
    // (the padding nops after a function's end were the most common of those, and what followed
    // one went to Capstone too).
    while (out.length < max && off < bytes.length) {
      const f = this.fast ? fastDecode(bytes, off, addr + off) : undefined;
      if (f) {
        out.push(new DecodedInsn(addr + off, f.len, f.id, f.op, f.opcode, f.modrm, f.ops, 0, false, f.opsize, f.rexW, bytes, off));
        off += f.len;
        this.decoded++;
        this.fastDecoded++;
        continue;
      }
      const H = this.heap;
      const rest = off === 0 ? bytes : bytes.subarray(off);
      this.put(rest);
      const want = this.fast ? 1 : max - out.length;
      const count = H._cs_disasm(this.cs.handle, this.codeBuf, rest.length, BigInt(addr + off), want, this.ppInsn);
      if (count <= 0) break;
      const base = H.HEAPU32[this.ppInsn >> 2];
      for (let k = 0; k < count; k++) {
        const insn = this.read(base + k * INSN_SIZE, addr + off, bytes, off);
        out.push(insn);
        off += insn.len;
      }
      H._cs_free(base, count);
      this.decoded += count;
    }
    return out;
  }

  /**
   * The IR of the cs_insn at `p`, at guest address `addr`, which is `input[off..]` (its bytes are
   * a view of the caller's buffer: no copy per instruction). Allocation here is what decoding
   * costs most (BigInts, arrays, strings), so only what the IR keeps is built.
   */
  private read(p: number, addr: number, input: Uint8Array, off: number): Insn {
    const H = this.heap;
    const u8 = H.HEAPU8;
    let id = H.HEAPU32[p >> 2];
    const len = H.HEAPU16[(p + 16) >> 1];
    const mnemonic = cstr(u8, p + 42, 32);
    const det = H.HEAPU32[(p + 236) >> 2];
    const x = det + X86;
    const prefix0 = u8[x], prefix2 = u8[x + 2];
    const opcode = [u8[x + 4], u8[x + 5], u8[x + 6], u8[x + 7]];
    const op = opName(mnemonic) || X86_INSN_NAMES[id];
    if (opcode[0] === 0x0f && opcode[1] === 0xc2 && op.startsWith('cmp')) id = SSE_CMP[op.slice(-2)] ?? id;
    const rex = u8[x + 8];
    const addrSize = u8[x + 9];
    const nops = u8[x + 64];
    const next = addr + len;
    const ops: Operand[] = [];
    for (let k = 0; k < nops; k++) {
      const o = x + OP_BASE + k * OP_SIZE;
      const type = H.HEAPU32[o >> 2];
      const size = u8[o + 32];
      if (type === OP_REG) {
        ops.push(this.reg(H.HEAPU32[(o + 8) >> 2], size));
      } else if (type === OP_IMM) {
        ops.push({ kind: 'imm', value: H.HEAP64[(o + 8) >> 3], size });
      } else if (type === OP_MEM) {
        const seg = this.regs[H.HEAPU32[(o + 8) >> 2]]?.name;
        const b = H.HEAPU32[(o + 12) >> 2];
        const ix = H.HEAPU32[(o + 16) >> 2];
        let disp = H.HEAP64[(o + 24) >> 3];
        let base = -1;
        if (b) {
          const br = this.regs[b];
          if (br.file === 'rip') disp = BigInt(next) + disp;
          else base = br.n;
        }
        const mem: MemOperand = {
          kind: 'mem', size, seg: seg === 'fs' || seg === 'gs' ? seg : null,
          base, index: ix && this.regs[ix].file === 'gpr' ? this.regs[ix].n : -1, scale: H.HEAP32[(o + 20) >> 2] || 1, disp,
          addr32: addrSize === 4,
        };
        ops.push(mem);
      }
    }
    return new DecodedInsn(addr, len, id, op, opcode, u8[x + 10], ops,
      prefix0 === 0xf3 || prefix0 === 0xf2 ? prefix0 : 0, prefix0 === 0xf0, prefix2 === 0x66, (rex & 8) !== 0,
      input, off);
  }

  /**
   * Copies `bytes` into the buffer of Capstone's heap kept for the purpose: straight into
   * Capstone's exports, as its ccall() wrapper (argument conversion, a stack copy) was ~15% of
   * decoding.
   */
  private put(bytes: Uint8Array): void {
    const H = this.heap;
    if (bytes.length > this.codeCap) {
      if (this.codeCap) H._free(this.codeBuf);
      this.codeCap = Math.max(bytes.length, 1024);
      this.codeBuf = H._malloc(this.codeCap);
    }
    H.HEAPU8.set(bytes, this.codeBuf);
  }

  /** The disassembly text of the instruction in `bytes` at `addr` ('' if it does not decode). */
  textOf(bytes: Uint8Array, addr: number): string {
    const H = this.heap;
    this.put(bytes);
    const count = H._cs_disasm(this.cs.handle, this.codeBuf, bytes.length, BigInt(addr), 1, this.ppInsn);
    if (count <= 0) return '';
    const base = H.HEAPU32[this.ppInsn >> 2];
    const mnemonic = cstr(H.HEAPU8, base + 42, 32);
    const opstr = cstr(H.HEAPU8, base + 74, 160);
    H._cs_free(base, count);
    return opstr ? `${mnemonic} ${opstr}` : mnemonic;
  }
}
