/**
 * The instruction forms the differential tester generates: one entry per (mnemonic, operand kinds,
 * width, encoding). Each form knows how to produce a random instance through the Builder, which
 * flags it reads, sets and leaves undefined (per the Intel SDM; undefined flags are masked in the
 * comparison), and whether it may appear in random sequences.
 */
import {
  ARITH, AF, type Builder, type MemOpts, CC_FLAGS, CC_NAMES, CF, DF, OF, PF, Retry, SCRATCH, SF, ZF,
} from './builder.js';
import { gpr, imm, type Gpr, type Mem, type Size } from './x86enc.js';

export interface Form {
  /** Unique, human-readable: "add m32, imm8 (83 /0)". */
  id: string;
  family: string;
  /** Capstone instruction name(s) the emulator must implement (its ISA table keys). */
  isa: string[];
  /** May appear in random sequences (no pinned operand values needed). */
  seq: boolean;
  /** May appear inside a jcc body in a sequence (no stack or control changes). */
  body?: boolean;
  /** Flags read (static): a sequence only picks it when these are defined. */
  reads?: number;
  /** Sets flags (sequences favour a consumer after a producer). */
  producer?: boolean;
  /** Reads flags. */
  consumer?: boolean;
  /** Faults (SIGFPE/SIGILL/SIGSEGV...): generated only with --signals. */
  fault?: boolean;
  /** Relative weight when picking forms (default 1). */
  weight?: number;
  gen(b: Builder, f: Form): void;
}

const W: Size[] = [1, 2, 4, 8];
const hex = (n: number) => n.toString(16).padStart(2, '0');
const R = (w: number) => `r${w * 8}`;
const M = (w: number) => `m${w * 8}`;
const K = (k: 'r' | 'm', w: number) => (k === 'r' ? R(w) : M(w));
const IMM = (n: number) => `imm${n * 8}`;
const ACC = ['al', 'ax', 'eax', 'rax'];
const acc = (w: number) => ACC[Math.log2(w)];
const immSize = (w: number) => Math.min(w, 4);

function sext(v: bigint, from: number, to: number): bigint {
  return BigInt.asUintN(to * 8, BigInt.asIntN(from * 8, v));
}

function rmOf(b: Builder, k: 'r' | 'm', w: Size, opts?: MemOpts): Gpr | Mem {
  return k === 'r' ? b.reg(w) : b.mem(w, opts);
}

interface FlagFx { reads?: number; writes?: number; undef?: number }
const FX_ARITH: FlagFx = { writes: ARITH };
const FX_LOGIC: FlagFx = { writes: ARITH & ~AF, undef: AF };
const FX_CARRY: FlagFx = { reads: CF, writes: ARITH };
const FX_INCDEC: FlagFx = { writes: ARITH & ~CF };

export const forms: Form[] = [];
export function add(f: Form): void {
  if (forms.some((g) => g.id === f.id)) throw new Error(`duplicate form ${f.id}`);
  forms.push(f);
}

// ---- alu: add or adc sbb and sub xor cmp, test, inc dec neg not ----------------------------

const ALU: [string, number, FlagFx][] = [
  ['add', 0, FX_ARITH], ['or', 1, FX_LOGIC], ['adc', 2, FX_CARRY], ['sbb', 3, FX_CARRY],
  ['and', 4, FX_LOGIC], ['sub', 5, FX_ARITH], ['xor', 6, FX_LOGIC], ['cmp', 7, FX_ARITH],
];

for (const [mn, d, fx] of ALU) {
  const base = { family: 'alu', isa: [mn], seq: true, body: true, producer: true, consumer: !!fx.reads, reads: fx.reads };
  for (const w of W) {
    const o = w === 1 ? 0 : 1;
    for (const k of ['r', 'm'] as const) {
      for (const lock of k === 'm' && mn !== 'cmp' ? [false, true] : [false]) {
        const lp = lock ? 'lock ' : '';
        add({
          ...base, id: `${lp}${mn} ${K(k, w)}, ${R(w)} (${hex(d * 8 + o)} /r)`, weight: lock ? 0.3 : 1,
          gen: (b, f) => {
            const rm = rmOf(b, k, w);
            const r = b.reg(w);
            b.emit({ prefixes: lock ? [0xf0] : [], osize: w, opcode: [d * 8 + o], reg: r, rm }, { form: f.id, mn, ops: [rm, r], ...fx });
          },
        });
        add({
          ...base, id: `${lp}${mn} ${K(k, w)}, ${IMM(w === 1 ? 1 : immSize(w))} (${w === 1 ? '80' : '81'} /${d})`, weight: lock ? 0.3 : 1,
          gen: (b, f) => {
            const rm = rmOf(b, k, w);
            const n = immSize(w);
            const v = b.val(n);
            b.emit({ prefixes: lock ? [0xf0] : [], osize: w, opcode: [w === 1 ? 0x80 : 0x81], reg: d, rm, imms: [[v, n]] },
              { form: f.id, mn, ops: [rm, imm(sext(v, n, w), w)], ...fx });
          },
        });
        if (w > 1) {
          add({
            ...base, id: `${lp}${mn} ${K(k, w)}, imm8 (83 /${d})`, weight: lock ? 0.3 : 1,
            gen: (b, f) => {
              const rm = rmOf(b, k, w);
              const v = b.val(1);
              b.emit({ prefixes: lock ? [0xf0] : [], osize: w, opcode: [0x83], reg: d, rm, imms: [[v, 1]] },
                { form: f.id, mn, ops: [rm, imm(sext(v, 1, w), w)], ...fx });
            },
          });
        }
      }
      add({
        ...base, id: `${mn} ${R(w)}, ${K(k, w)} (${hex(d * 8 + 2 + o)} /r)`,
        gen: (b, f) => {
          const r = b.reg(w);
          const rm = rmOf(b, k, w);
          b.emit({ osize: w, opcode: [d * 8 + 2 + o], reg: r, rm }, { form: f.id, mn, ops: [r, rm], ...fx });
        },
      });
    }
    add({
      ...base, id: `${mn} ${acc(w)}, ${IMM(immSize(w))} (${hex(d * 8 + 4 + o)})`,
      gen: (b, f) => {
        const a = b.fixed(0, w);
        const n = immSize(w);
        const v = b.val(n);
        b.emit({ osize: w, opcode: [d * 8 + 4 + o], imms: [[v, n]] }, { form: f.id, mn, ops: [a, imm(sext(v, n, w), w)], ...fx });
      },
    });
  }
}

for (const w of W) {
  const base = { family: 'alu', isa: ['test'], seq: true, body: true, producer: true };
  const o = w === 1 ? 0 : 1;
  for (const k of ['r', 'm'] as const) {
    add({
      ...base, id: `test ${K(k, w)}, ${R(w)} (${hex(0x84 + o)} /r)`,
      gen: (b, f) => {
        const rm = rmOf(b, k, w);
        const r = b.reg(w);
        b.emit({ osize: w, opcode: [0x84 + o], reg: r, rm }, { form: f.id, mn: 'test', ops: [rm, r], ...FX_LOGIC });
      },
    });
    add({
      ...base, id: `test ${K(k, w)}, ${IMM(immSize(w))} (${hex(0xf6 + o)} /0)`,
      gen: (b, f) => {
        const rm = rmOf(b, k, w);
        const n = immSize(w);
        const v = b.val(n);
        b.emit({ osize: w, opcode: [0xf6 + o], reg: 0, rm, imms: [[v, n]] }, { form: f.id, mn: 'test', ops: [rm, imm(sext(v, n, w), w)], ...FX_LOGIC });
      },
    });
    for (const [mn, d, fx] of [['inc', 0, FX_INCDEC], ['dec', 1, FX_INCDEC], ['not', 2, {}], ['neg', 3, FX_ARITH]] as [string, number, FlagFx][]) {
      const op = d < 2 ? 0xfe + o : 0xf6 + o;
      for (const lock of k === 'm' ? [false, true] : [false]) {
        const lp = lock ? 'lock ' : '';
        add({
          family: 'alu', isa: [mn], seq: true, body: true, producer: mn !== 'not', weight: lock ? 0.3 : 1,
          id: `${lp}${mn} ${K(k, w)} (${hex(op)} /${d})`,
          gen: (b, f) => {
            const rm = rmOf(b, k, w);
            b.emit({ prefixes: lock ? [0xf0] : [], osize: w, opcode: [op], reg: d, rm }, { form: f.id, mn, ops: [rm], ...fx });
          },
        });
      }
    }
  }
  add({
    ...base, id: `test ${acc(w)}, ${IMM(immSize(w))} (${hex(0xa8 + o)})`,
    gen: (b, f) => {
      const a = b.fixed(0, w);
      const n = immSize(w);
      const v = b.val(n);
      b.emit({ osize: w, opcode: [0xa8 + o], imms: [[v, n]] }, { form: f.id, mn: 'test', ops: [a, imm(sext(v, n, w), w)], ...FX_LOGIC });
    },
  });
}

// ---- moves -------------------------------------------------------------------------------

for (const w of W) {
  const o = w === 1 ? 0 : 1;
  const base = { family: 'move', isa: ['mov'], seq: true, body: true };
  for (const k of ['r', 'm'] as const) {
    add({
      ...base, id: `mov ${K(k, w)}, ${R(w)} (${hex(0x88 + o)} /r)`,
      gen: (b, f) => {
        const rm = rmOf(b, k, w);
        const r = b.reg(w);
        b.emit({ osize: w, opcode: [0x88 + o], reg: r, rm }, { form: f.id, mn: 'mov', ops: [rm, r] });
      },
    });
    add({
      ...base, id: `mov ${R(w)}, ${K(k, w)} (${hex(0x8a + o)} /r)`,
      gen: (b, f) => {
        const r = b.reg(w);
        const rm = rmOf(b, k, w);
        b.emit({ osize: w, opcode: [0x8a + o], reg: r, rm }, { form: f.id, mn: 'mov', ops: [r, rm] });
      },
    });
    add({
      ...base, id: `mov ${K(k, w)}, ${IMM(immSize(w))} (${hex(0xc6 + o)} /0)`,
      gen: (b, f) => {
        const rm = rmOf(b, k, w);
        const n = immSize(w);
        const v = b.val(n);
        b.emit({ osize: w, opcode: [0xc6 + o], reg: 0, rm, imms: [[v, n]] }, { form: f.id, mn: 'mov', ops: [rm, imm(sext(v, n, w), w)] });
      },
    });
  }
  add({
    ...base, id: `${w === 8 ? 'movabs' : 'mov'} ${R(w)}, ${IMM(w)} (${w === 1 ? 'b0' : 'b8'}+r)`, isa: [w === 8 ? 'movabs' : 'mov'],
    gen: (b, f) => {
      const r = b.reg(w);
      const v = b.val(w);
      b.emit({ osize: w, opcode: [w === 1 ? 0xb0 : 0xb8], opreg: r, imms: [[v, w]] }, { form: f.id, mn: w === 8 ? 'movabs' : 'mov', ops: [r, imm(v, w)] });
    },
  });
  add({
    ...base, id: `movabs ${acc(w)}, moffs${w * 8} (${hex(0xa0 + o)})`, isa: ['movabs'],
    gen: (b, f) => {
      b.fixed(0, w);
      const off = b.rng.range(0, SCRATCH - w);
      b.emit({ osize: w, opcode: [0xa0 + o], imms: [[BigInt(b.layout.mem + off), 8]] }, { form: f.id, mn: 'movabs' });
    },
  });
  add({
    ...base, id: `movabs moffs${w * 8}, ${acc(w)} (${hex(0xa2 + o)})`, isa: ['movabs'],
    gen: (b, f) => {
      b.fixed(0, w);
      const off = b.rng.range(0, SCRATCH - w);
      b.emit({ osize: w, opcode: [0xa2 + o], imms: [[BigInt(b.layout.mem + off), 8]] }, { form: f.id, mn: 'movabs' });
    },
  });
}
add({
  family: 'move', isa: ['mov'], seq: true, body: true, id: 'mov r64, imm32 sign-extended (c7 /0)',
  gen: (b, f) => {
    const r = b.reg(8);
    const v = b.val(4);
    b.emit({ osize: 8, opcode: [0xc7], reg: 0, rm: r, imms: [[v, 4]] }, { form: f.id, mn: 'mov', ops: [r, imm(sext(v, 4, 8), 8)] });
  },
});

// movzx / movsx / movsxd
for (const [mn, op] of [['movzx', 0xb6], ['movsx', 0xbe]] as [string, number][]) {
  for (const sw of [1, 2] as Size[]) {
    for (const dw of [2, 4, 8] as Size[]) {
      if (dw <= sw) continue;
      for (const k of ['r', 'm'] as const) {
        add({
          family: 'move', isa: [mn], seq: true, body: true, id: `${mn} ${R(dw)}, ${K(k, sw)} (0f ${hex(op + sw - 1)})`,
          gen: (b, f) => {
            const r = b.reg(dw);
            const rm = rmOf(b, k, sw);
            b.emit({ osize: dw, opcode: [0x0f, op + sw - 1], reg: r, rm }, { form: f.id, mn, ops: [r, rm] });
          },
        });
      }
    }
  }
}
for (const k of ['r', 'm'] as const) {
  add({
    family: 'move', isa: ['movsxd'], seq: true, body: true, id: `movsxd r64, ${K(k, 4)} (63 /r)`,
    gen: (b, f) => {
      const r = b.reg(8);
      const rm = rmOf(b, k, 4);
      b.emit({ osize: 8, opcode: [0x63], reg: r, rm }, { form: f.id, mn: 'movsxd', ops: [r, rm] });
    },
  });
}

// lea: any address arithmetic (no access), incl. 32-bit address size.
for (const w of [2, 4, 8] as Size[]) {
  for (const a32 of [false, true]) {
    add({
      family: 'move', isa: ['lea'], seq: true, body: true, id: `lea ${R(w)}, m${a32 ? ' (67: addr32)' : ''} (8d /r)`,
      gen: (b, f) => {
        const r = b.reg(w);
        const rng = b.rng;
        const pickR = () => rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].filter((n) => n !== r.n || rng.chance(0.3)));
        const kind = rng.int(8);
        let m: Mem;
        const disp = rng.pick([0, rng.range(-128, 127), rng.range(-0x8000_0000, 0x7fff_ffff), -1, 0x7fff_ffff, -0x8000_0000]);
        if (kind === 0 && !a32) m = { kind: 'mem', base: 'rip', index: -1, scale: 1, disp: b.here + rng.range(-1000, 1000), size: 0 };
        else {
          const base = kind === 1 ? -1 : pickR();
          let index = rng.chance(0.6) ? pickR() : -1;
          if (index === 4) index = -1;
          m = { kind: 'mem', base, index, scale: rng.pick([1, 2, 4, 8] as const), disp, size: 0, addr32: a32 };
        }
        b.emit({ osize: w, opcode: [0x8d], reg: r, rm: m }, { form: f.id, mn: 'lea', ops: [r, m] });
      },
    });
  }
}

// xchg, xadd, cmpxchg, bswap
for (const w of W) {
  const o = w === 1 ? 0 : 1;
  for (const k of ['r', 'm'] as const) {
    add({
      family: 'move', isa: ['xchg'], seq: true, body: true, id: `xchg ${K(k, w)}, ${R(w)} (${hex(0x86 + o)} /r)`,
      gen: (b, f) => {
        const rm = rmOf(b, k, w);
        const r = b.reg(w);
        b.emit({ osize: w, opcode: [0x86 + o], reg: r, rm }, { form: f.id, mn: 'xchg', ops: [rm, r] });
      },
    });
    for (const lock of k === 'm' ? [false, true] : [false]) {
      const lp = lock ? 'lock ' : '';
      add({
        family: 'move', isa: ['xadd'], seq: true, body: true, producer: true, weight: lock ? 0.3 : 1,
        id: `${lp}xadd ${K(k, w)}, ${R(w)} (0f ${hex(0xc0 + o)} /r)`,
        gen: (b, f) => {
          const rm = rmOf(b, k, w);
          const r = b.reg(w);
          b.emit({ prefixes: lock ? [0xf0] : [], osize: w, opcode: [0x0f, 0xc0 + o], reg: r, rm }, { form: f.id, mn: 'xadd', ops: [rm, r], ...FX_ARITH });
        },
      });
      add({
        family: 'move', isa: ['cmpxchg'], seq: true, body: true, producer: true, weight: lock ? 0.3 : 1,
        id: `${lp}cmpxchg ${K(k, w)}, ${R(w)} (0f ${hex(0xb0 + o)} /r)`,
        gen: (b, f) => {
          b.claimAcc(w);
          const rm = rmOf(b, k, w);
          const r = b.reg(w);
          if (!b.seq && b.rng.chance(0.5)) {
            // Make the comparison succeed.
            const v = rm.kind === 'mem' ? b.memVal(b.lastOff, w) : b.regVal(rm);
            if (rm.kind === 'gpr' && rm.high) b.setReg(0, v, 1);
            else if (!(rm.kind === 'gpr' && rm.n === 0)) b.setReg(0, v, w);
          }
          b.emit({ prefixes: lock ? [0xf0] : [], osize: w, opcode: [0x0f, 0xb0 + o], reg: r, rm }, { form: f.id, mn: 'cmpxchg', ops: [rm, r], ...FX_ARITH });
        },
      });
    }
  }
  if (w > 1) {
    add({
      family: 'move', isa: ['xchg'], seq: true, body: true, id: `xchg ${acc(w)}, ${R(w)} (90+r)`,
      gen: (b, f) => {
        const a = b.fixed(0, w);
        const r = b.reg(w, { avoid: [0] });
        b.emit({ osize: w, opcode: [0x90], opreg: r }, { form: f.id, mn: 'xchg', ops: [r, a] });
      },
    });
  }
}
for (const w of [4, 8] as Size[]) {
  add({
    family: 'move', isa: ['bswap'], seq: true, body: true, id: `bswap ${R(w)} (0f c8+r)`,
    gen: (b, f) => {
      const r = b.reg(w);
      b.emit({ osize: w, opcode: [0x0f, 0xc8], opreg: r }, { form: f.id, mn: 'bswap', ops: [r] });
    },
  });
}

// cbw cwde cdqe cwd cdq cqo
for (const [mn, op, w] of [['cbw', 0x98, 2], ['cwde', 0x98, 4], ['cdqe', 0x98, 8], ['cwd', 0x99, 2], ['cdq', 0x99, 4], ['cqo', 0x99, 8]] as [string, number, Size][]) {
  add({
    family: 'move', isa: [mn], seq: true, body: true, id: `${mn} (${w === 2 ? '66 ' : w === 8 ? 'rex.w ' : ''}${hex(op)})`,
    gen: (b, f) => {
      b.claimAcc(w);
      if (op === 0x99) b.claim(2);
      if (!b.writable(0) || !b.writable(2)) throw new Retry('rax/rdx reserved');
      b.emit({ osize: w, opcode: [op] }, { form: f.id, mn });
    },
  });
}

// flag instructions
add({ family: 'flags', isa: ['clc'], seq: true, body: true, producer: true, id: 'clc (f8)', gen: (b, f) => { b.emit({ opcode: [0xf8] }, { form: f.id, mn: 'clc', writes: CF }); } });
add({ family: 'flags', isa: ['stc'], seq: true, body: true, producer: true, id: 'stc (f9)', gen: (b, f) => { b.emit({ opcode: [0xf9] }, { form: f.id, mn: 'stc', writes: CF }); } });
add({ family: 'flags', isa: ['cmc'], seq: true, body: true, producer: true, consumer: true, reads: CF, id: 'cmc (f5)', gen: (b, f) => { b.emit({ opcode: [0xf5] }, { form: f.id, mn: 'cmc', reads: CF, writes: CF }); } });
add({ family: 'flags', isa: ['cld'], seq: true, body: true, id: 'cld (fc)', gen: (b, f) => { b.emit({ opcode: [0xfc] }, { form: f.id, mn: 'cld' }); } });
add({ family: 'flags', isa: ['std'], seq: true, body: true, id: 'std (fd)', gen: (b, f) => { b.emit({ opcode: [0xfd] }, { form: f.id, mn: 'std' }); } });
add({
  family: 'flags', isa: ['lahf'], seq: true, body: true, consumer: true, reads: SF | ZF | AF | PF | CF, id: 'lahf (9f)',
  gen: (b, f) => {
    if (!b.writable(0)) throw new Retry('rax reserved');
    b.claim(0);
    b.emit({ opcode: [0x9f] }, { form: f.id, mn: 'lahf', reads: SF | ZF | AF | PF | CF });
  },
});
add({
  family: 'flags', isa: ['sahf'], seq: true, body: true, producer: true, id: 'sahf (9e)',
  gen: (b, f) => { b.claim(0); b.emit({ opcode: [0x9e] }, { form: f.id, mn: 'sahf', writes: SF | ZF | AF | PF | CF }); },
});
add({
  family: 'flags', isa: ['pushfq'], seq: true, consumer: true, reads: ARITH, id: 'pushfq (9c)',
  gen: (b, f) => { b.push(8); b.emit({ opcode: [0x9c] }, { form: f.id, mn: 'pushfq', reads: ARITH }); },
});
add({
  family: 'flags', isa: ['push', 'popfq'], seq: true, producer: true, id: 'popfq (9d) after push imm32',
  gen: (b, f) => {
    const v = BigInt(b.rng.u32() & (ARITH | DF));
    b.push(8);
    b.emit({ opcode: [0x68], imms: [[v, 4]] }, { form: 'push imm32 (68)', mn: 'push' });
    b.pop(8);
    b.emit({ opcode: [0x9d] }, { form: f.id, mn: 'popfq', writes: ARITH });
  },
});

// push / pop
for (const w of [2, 8] as Size[]) {
  add({
    family: 'stack', isa: ['push'], seq: true, id: `push ${R(w)} (${w === 2 ? '66 ' : ''}50+r)`,
    gen: (b, f) => {
      const r = b.reg(w, { avoid: [] });
      b.push(w);
      b.emit({ osize: w === 2 ? 2 : 0, opcode: [0x50], opreg: r }, { form: f.id, mn: 'push', ops: [r] });
    },
  });
  add({
    family: 'stack', isa: ['pop'], seq: true, id: `pop ${R(w)} (${w === 2 ? '66 ' : ''}58+r)`,
    gen: (b, f) => {
      const r = b.reg(w);
      b.pop(w);
      b.emit({ osize: w === 2 ? 2 : 0, opcode: [0x58], opreg: r }, { form: f.id, mn: 'pop', ops: [r] });
    },
  });
  add({
    family: 'stack', isa: ['push'], seq: true, id: `push ${M(w)} (${w === 2 ? '66 ' : ''}ff /6)`,
    gen: (b, f) => {
      const m = b.mem(w);
      b.push(w);
      b.emit({ osize: w === 2 ? 2 : 0, opcode: [0xff], reg: 6, rm: m }, { form: f.id, mn: 'push', ops: [m] });
    },
  });
  add({
    family: 'stack', isa: ['pop'], seq: true, id: `pop ${M(w)} (${w === 2 ? '66 ' : ''}8f /0)`,
    gen: (b, f) => {
      // With an rsp base, the address is computed after rsp is incremented.
      const m = b.mem(w, { rspAfter: w });
      b.pop(w);
      b.emit({ osize: w === 2 ? 2 : 0, opcode: [0x8f], reg: 0, rm: m }, { form: f.id, mn: 'pop', ops: [m] });
    },
  });
}
add({
  family: 'stack', isa: ['push'], seq: true, id: 'push imm8 (6a)',
  gen: (b, f) => { const v = b.val(1); b.push(8); b.emit({ opcode: [0x6a], imms: [[v, 1]] }, { form: f.id, mn: 'push', ops: [imm(sext(v, 1, 8), 8)] }); },
});
add({
  family: 'stack', isa: ['push'], seq: true, id: 'push imm32 (68)',
  gen: (b, f) => { const v = b.val(4); b.push(8); b.emit({ opcode: [0x68], imms: [[v, 4]] }, { form: f.id, mn: 'push', ops: [imm(sext(v, 4, 8), 8)] }); },
});

// setcc / cmovcc
for (let cc = 0; cc < 16; cc++) {
  const n = CC_NAMES[cc];
  for (const k of ['r', 'm'] as const) {
    add({
      family: 'cond', isa: [`set${n}`], seq: true, body: true, consumer: true, reads: CC_FLAGS[cc], weight: 0.25,
      id: `set${n} ${K(k, 1)} (0f ${hex(0x90 + cc)})`,
      gen: (b, f) => {
        const rm = rmOf(b, k, 1);
        b.emit({ opcode: [0x0f, 0x90 + cc], reg: 0, rm }, { form: f.id, mn: `set${n}`, ops: [rm], reads: CC_FLAGS[cc] });
      },
    });
    for (const w of [2, 4, 8] as Size[]) {
      add({
        family: 'cond', isa: [`cmov${n}`], seq: true, body: true, consumer: true, reads: CC_FLAGS[cc], weight: 0.15,
        id: `cmov${n} ${R(w)}, ${K(k, w)} (0f ${hex(0x40 + cc)})`,
        gen: (b, f) => {
          const r = b.reg(w);
          const rm = rmOf(b, k, w);
          b.emit({ osize: w, opcode: [0x0f, 0x40 + cc], reg: r, rm }, { form: f.id, mn: `cmov${n}`, ops: [r, rm], reads: CC_FLAGS[cc] });
        },
      });
    }
  }
}

// ---- shifts and rotates --------------------------------------------------------------------

const SHIFTS: [string, number][] = [['rol', 0], ['ror', 1], ['rcl', 2], ['rcr', 3], ['shl', 4], ['shr', 5], ['sal', 6], ['sar', 7]];

/**
 * Flag effects of a shift/rotate with masked count c. undefined: the count is not known (seq mode,
 * count in CL): it may be 0 (flags unchanged), so nothing is guaranteed defined afterwards.
 */
function shiftFx(mn: string, w: number, c: number | undefined): FlagFx {
  const bits = w * 8;
  const rc = mn === 'rcl' || mn === 'rcr';
  const reads = rc ? CF : 0;
  if (c === 0) return { reads };
  if (mn === 'rol' || mn === 'ror' || rc) {
    // CF (and OF for 1-bit rotates) only.
    if (c === undefined) return { reads, writes: 0, undef: OF };
    return { reads, writes: c === 1 ? CF | OF : CF, undef: c === 1 ? 0 : OF };
  }
  let undef = AF;
  if (c === undefined || c !== 1) undef |= OF;
  if ((mn === 'shl' || mn === 'shr' || mn === 'sal') && (c === undefined ? bits <= 16 : c >= bits)) undef |= CF;
  return { reads, writes: c === undefined ? 0 : ARITH & ~undef, undef };
}

function countValue(b: Builder, w: number): number {
  const bits = w * 8;
  return b.rng.pick([0, 1, 1, 2, bits - 1, bits, bits + 1, 31, 32, 33, 63, 64, 65, b.rng.int(256), b.rng.int(bits)]);
}
const maskCount = (raw: number, w: number) => raw & (w === 8 ? 63 : 31);

for (const [mn, d] of SHIFTS) {
  const rc = mn === 'rcl' || mn === 'rcr';
  for (const w of W) {
    const o = w === 1 ? 0 : 1;
    for (const k of ['r', 'm'] as const) {
      const base = { family: 'shift', isa: [mn], seq: true, body: true, producer: true, consumer: rc, reads: rc ? CF : 0, weight: mn === 'sal' ? 0.3 : 1 };
      add({
        ...base, id: `${mn} ${K(k, w)}, imm8 (${hex(0xc0 + o)} /${d})`,
        gen: (b, f) => {
          const rm = rmOf(b, k, w);
          const raw = countValue(b, w);
          b.emit({ osize: w, opcode: [0xc0 + o], reg: d, rm, imms: [[BigInt(raw), 1]] },
            { form: f.id, mn, ops: [rm, imm(BigInt(raw), 1)], ...shiftFx(mn, w, maskCount(raw, w)) });
        },
      });
      add({
        ...base, id: `${mn} ${K(k, w)}, 1 (${hex(0xd0 + o)} /${d})`,
        gen: (b, f) => {
          const rm = rmOf(b, k, w);
          b.emit({ osize: w, opcode: [0xd0 + o], reg: d, rm }, { form: f.id, mn, ops: [rm, imm(1n, 1)], ...shiftFx(mn, w, 1) });
        },
      });
      add({
        ...base, id: `${mn} ${K(k, w)}, cl (${hex(0xd2 + o)} /${d})`,
        gen: (b, f) => {
          const cl = b.fixed(1, 1);
          const rm = rmOf(b, k, w);
          let c: number | undefined;
          if (!b.seq) {
            if (rm.kind === 'gpr' && rm.n === 1 && !rm.high) c = maskCount(Number(b.regVal(gpr(1, 1))), w);
            else { const raw = countValue(b, w); b.setReg(1, BigInt(raw), 1); c = maskCount(raw, w); }
          }
          b.emit({ osize: w, opcode: [0xd2 + o], reg: d, rm }, { form: f.id, mn, ops: [rm, cl], ...shiftFx(mn, w, c) });
        },
      });
    }
  }
}

// shld / shrd
for (const [mn, op] of [['shld', 0xa4], ['shrd', 0xac]] as [string, number][]) {
  for (const w of [2, 4, 8] as Size[]) {
    const fx = (c: number | undefined): FlagFx => {
      if (c === 0) return {};
      const undef = AF | (c === 1 ? 0 : OF);
      return { writes: c === undefined ? 0 : ARITH & ~undef, undef };
    };
    for (const k of ['r', 'm'] as const) {
      add({
        family: 'shift', isa: [mn], seq: true, body: true, producer: true, id: `${mn} ${K(k, w)}, ${R(w)}, imm8 (0f ${hex(op)})`,
        gen: (b, f) => {
          const rm = rmOf(b, k, w);
          const r = b.reg(w);
          let raw = countValue(b, w);
          if (w === 2 && maskCount(raw, w) > 16) raw = b.rng.range(0, 16); // larger counts: undefined
          b.emit({ osize: w, opcode: [0x0f, op], reg: r, rm, imms: [[BigInt(raw), 1]] },
            { form: f.id, mn, ops: [rm, r, imm(BigInt(raw), 1)], ...fx(maskCount(raw, w)) });
        },
      });
      add({
        family: 'shift', isa: [mn], seq: w > 2, body: true, producer: true, id: `${mn} ${K(k, w)}, ${R(w)}, cl (0f ${hex(op + 1)})`,
        gen: (b, f) => {
          const cl = b.fixed(1, 1);
          const rm = rmOf(b, k, w);
          const r = b.reg(w);
          let c: number | undefined;
          if (!b.seq) {
            let raw = countValue(b, w);
            if (w === 2 && maskCount(raw, w) > 16) raw = b.rng.range(0, 16);
            if ((rm.kind === 'gpr' && rm.n === 1) || r.n === 1) {
              // The count register is also an operand: its value is the count.
              raw = Number(b.regVal(gpr(1, 1)));
              if (w === 2 && maskCount(raw, w) > 16) throw new Retry('16-bit count > 16');
            } else b.setReg(1, BigInt(raw), 1);
            c = maskCount(raw, w);
          }
          b.emit({ osize: w, opcode: [0x0f, op + 1], reg: r, rm }, { form: f.id, mn, ops: [rm, r, cl], ...fx(c) });
        },
      });
    }
  }
}

// ---- multiply / divide ---------------------------------------------------------------------

const FX_MUL: FlagFx = { writes: CF | OF, undef: SF | ZF | AF | PF };
for (const w of W) {
  const o = w === 1 ? 0 : 1;
  for (const k of ['r', 'm'] as const) {
    for (const [mn, d] of [['mul', 4], ['imul', 5]] as [string, number][]) {
      add({
        family: 'muldiv', isa: [mn], seq: true, body: true, producer: true, id: `${mn} ${K(k, w)} (${hex(0xf6 + o)} /${d})`,
        gen: (b, f) => {
          b.claimAcc(w);
          if (w > 1) b.claim(2);
          if (!b.writable(0) || (w > 1 && !b.writable(2))) throw new Retry('rax/rdx reserved');
          const rm = rmOf(b, k, w);
          b.emit({ osize: w, opcode: [0xf6 + o], reg: d, rm }, { form: f.id, mn, ops: [rm], ...FX_MUL });
        },
      });
    }
    for (const [mn, d] of [['div', 6], ['idiv', 7]] as [string, number][]) {
      add({
        family: 'muldiv', isa: [mn], seq: false, id: `${mn} ${K(k, w)} (${hex(0xf6 + o)} /${d})`,
        gen: (b, f) => {
          b.claim(0);
          if (w > 1) b.claim(2);
          const rm = k === 'r' ? b.reg(w, { avoid: w === 1 ? [0] : [0, 2] }) : b.mem(w);
          if (rm.kind === 'gpr' && rm.high && rm.n === 0) throw new Retry('div ah');
          divSetup(b, mn === 'idiv', w, rm);
          b.emit({ osize: w, opcode: [0xf6 + o], reg: d, rm }, { form: f.id, mn, ops: [rm], undef: ARITH });
        },
      });
    }
  }
}
for (const w of [2, 4, 8] as Size[]) {
  for (const k of ['r', 'm'] as const) {
    add({
      family: 'muldiv', isa: ['imul'], seq: true, body: true, producer: true, id: `imul ${R(w)}, ${K(k, w)} (0f af)`,
      gen: (b, f) => {
        const r = b.reg(w);
        const rm = rmOf(b, k, w);
        b.emit({ osize: w, opcode: [0x0f, 0xaf], reg: r, rm }, { form: f.id, mn: 'imul', ops: [r, rm], ...FX_MUL });
      },
    });
    for (const [op, n] of [[0x6b, 1], [0x69, immSize(w)]] as [number, number][]) {
      add({
        family: 'muldiv', isa: ['imul'], seq: true, body: true, producer: true, id: `imul ${R(w)}, ${K(k, w)}, ${IMM(n)} (${hex(op)})`,
        gen: (b, f) => {
          const r = b.reg(w);
          const rm = rmOf(b, k, w);
          const v = b.val(n);
          b.emit({ osize: w, opcode: [op], reg: r, rm, imms: [[v, n]] }, { form: f.id, mn: 'imul', ops: [r, rm, imm(sext(v, n, w), w)], ...FX_MUL });
        },
      });
    }
  }
}

/** Chooses divisor and dividend so that the quotient fits (no #DE). */
function divSetup(b: Builder, signed: boolean, w: Size, rm: Gpr | Mem): void {
  const r = b.rng;
  const bits = BigInt(w * 8);
  const mask = (1n << bits) - 1n;
  let d: bigint;
  do d = b.val(w); while (d === 0n);
  let dividend: bigint;
  if (!signed) {
    const q = r.chance(0.3) ? mask - BigInt(r.int(3)) : b.val(w);
    const rem = r.chance(0.3) ? d - 1n : (r.u64() & mask) % d;
    dividend = q * d + rem;
  } else {
    const ds = BigInt.asIntN(Number(bits), d);
    const qmax = (1n << (bits - 1n)) - 1n, qmin = -(1n << (bits - 1n));
    let q = BigInt.asIntN(Number(bits), b.val(w));
    if (q > qmax) q = qmax;
    if (q < qmin) q = qmin;
    const ad = ds < 0n ? -ds : ds;
    let rem = ad === 1n ? 0n : (r.u64() % (ad - 1n)) + 1n;
    if (r.chance(0.3)) rem = 0n;
    const prodNeg = (q < 0n) !== (ds < 0n) && q !== 0n;
    if (q === 0n ? r.chance(0.5) : prodNeg) rem = -rem;
    dividend = q * ds + rem;
  }
  const dv = BigInt.asUintN(Number(bits) * 2, dividend);
  if (rm.kind === 'mem') b.setMem(b.lastOff, d, w);
  else b.setOp(rm, d);
  if (w === 1) b.setReg(0, dv, 2);
  else {
    b.setReg(0, dv & mask, w);
    b.setReg(2, dv >> bits, w);
  }
}

// ---- bit operations ------------------------------------------------------------------------

const BT: [string, number, number][] = [['bt', 0xa3, 4], ['bts', 0xab, 5], ['btr', 0xb3, 6], ['btc', 0xbb, 7]];
const FX_BT: FlagFx = { writes: CF, undef: OF | SF | AF | PF };
for (const [mn, op, d] of BT) {
  for (const w of [2, 4, 8] as Size[]) {
    const bits = w * 8;
    for (const lock of mn === 'bt' ? [false] : [false, true]) {
      const lp = lock ? 'lock ' : '';
      const pf = lock ? [0xf0] : [];
      if (!lock) {
        add({
          family: 'bits', isa: [mn], seq: true, body: true, producer: true, id: `${mn} ${R(w)}, ${R(w)} (0f ${hex(op)})`,
          gen: (b, f) => {
            const rm = b.reg(w);
            const r = b.reg(w);
            b.emit({ osize: w, opcode: [0x0f, op], reg: r, rm }, { form: f.id, mn, ops: [rm, r], ...FX_BT });
          },
        });
        add({
          family: 'bits', isa: [mn], seq: true, body: true, producer: true, id: `${mn} ${R(w)}, imm8 (0f ba /${d})`,
          gen: (b, f) => {
            const rm = b.reg(w);
            const v = BigInt(b.rng.chance(0.7) ? b.rng.int(bits) : b.rng.int(256));
            b.emit({ osize: w, opcode: [0x0f, 0xba], reg: d, rm, imms: [[v, 1]] }, { form: f.id, mn, ops: [rm, imm(v, 1)], ...FX_BT });
          },
        });
      }
      add({
        family: 'bits', isa: [mn], seq: true, body: true, producer: true, weight: lock ? 0.3 : 1, id: `${lp}${mn} ${M(w)}, imm8 (0f ba /${d})`,
        gen: (b, f) => {
          const m = b.mem(w);
          const v = BigInt(b.rng.chance(0.7) ? b.rng.int(bits) : b.rng.int(256));
          b.emit({ prefixes: pf, osize: w, opcode: [0x0f, 0xba], reg: d, rm: m, imms: [[v, 1]] }, { form: f.id, mn, ops: [m, imm(v, 1)], ...FX_BT });
        },
      });
      // Register bit offset into memory: may address outside the operand (signed offset / bits).
      add({
        family: 'bits', isa: [mn], seq: false, weight: lock ? 0.3 : 1.5, id: `${lp}${mn} ${M(w)}, ${R(w)} (0f ${hex(op)})`,
        gen: (b, f) => {
          const r = b.reg(w);
          const k = b.rng.range(-6, 6);
          const bit = b.rng.int(bits);
          const target = b.rng.range(0, SCRATCH - w);
          // ea + k * w = target
          const m = b.mem(w, { off: target - k * w });
          const off = BigInt.asUintN(bits, BigInt(k * bits + bit));
          if (r.kind === 'gpr' && b.pinned.has(r.n)) throw new Retry('offset register pinned');
          b.setOp(r, off);
          b.emit({ prefixes: pf, osize: w, opcode: [0x0f, op], reg: r, rm: m }, { form: f.id, mn, ops: [m, r], ...FX_BT });
        },
      });
    }
  }
}

for (const [mn, op, seq] of [['bsf', 0xbc, false], ['bsr', 0xbd, false]] as [string, number, boolean][]) {
  for (const w of [2, 4, 8] as Size[]) {
    for (const k of ['r', 'm'] as const) {
      add({
        family: 'bits', isa: [mn], seq, id: `${mn} ${R(w)}, ${K(k, w)} (0f ${hex(op)})`,
        gen: (b, f) => {
          const r = b.reg(w);
          const rm = rmOf(b, k, w);
          const memOff = b.lastOff;
          const src = () => (rm.kind === 'mem' ? b.memVal(memOff, w) : b.regVal(rm));
          if (src() === 0n && b.rng.chance(0.7)) {
            const v = b.val(w) | (1n << BigInt(b.rng.int(w * 8)));
            if (rm.kind === 'mem') b.setMem(memOff, v, w); else b.setOp(rm, v);
          }
          // A zero source leaves the destination undefined (SDM; AMD documents it unchanged).
          if (src() === 0n) b.undefReg(r.n, 0n);
          b.emit({ osize: w, opcode: [0x0f, op], reg: r, rm }, { form: f.id, mn, ops: [r, rm], writes: ZF, undef: CF | OF | SF | AF | PF });
        },
      });
    }
  }
}
for (const [mn, op, fx] of [
  ['tzcnt', 0xbc, { writes: CF | ZF, undef: OF | SF | AF | PF }],
  ['lzcnt', 0xbd, { writes: CF | ZF, undef: OF | SF | AF | PF }],
  ['popcnt', 0xb8, { writes: ARITH }],
] as [string, number, FlagFx][]) {
  for (const w of [2, 4, 8] as Size[]) {
    for (const k of ['r', 'm'] as const) {
      add({
        family: 'bits', isa: [mn], seq: true, body: true, producer: true, id: `${mn} ${R(w)}, ${K(k, w)} (f3 0f ${hex(op)})`,
        gen: (b, f) => {
          const r = b.reg(w);
          const rm = rmOf(b, k, w);
          b.emit({ prefixes: [0xf3], osize: w, opcode: [0x0f, op], reg: r, rm }, { form: f.id, mn, ops: [r, rm], ...fx });
        },
      });
    }
  }
}

// ---- string instructions -------------------------------------------------------------------

const STR: [string, number, boolean, boolean, boolean][] = [
  // name, opcode (byte form), uses rsi, uses rdi, compares
  ['movs', 0xa4, true, true, false],
  ['cmps', 0xa6, true, true, true],
  ['stos', 0xaa, false, true, false],
  ['lods', 0xac, true, false, false],
  ['scas', 0xae, false, true, true],
];
const SUFFIX = ['b', 'w', 'd', 'q'];
for (const [name, op, si, di, cmp] of STR) {
  for (const w of W) {
    const sfx = SUFFIX[Math.log2(w)];
    const reps: [string, number][] = cmp ? [['', 0], ['repe ', 0xf3], ['repne ', 0xf2]] : [['', 0], ['rep ', 0xf3]];
    for (const [rp, pfx] of reps) {
      for (const a32 of [false, true]) {
        if (a32 && !(pfx && w <= 2)) continue; // addr32 variants only for a few rep forms
        add({
          family: 'string', isa: [name + sfx], seq: false, weight: 0.8,
          id: `${rp}${name}${sfx}${a32 ? ' (67: addr32)' : ''} (${pfx ? hex(pfx) + ' ' : ''}${hex(op + (w === 1 ? 0 : 1))})`,
          gen: (b, f) => stringCase(b, f, name + sfx, op + (w === 1 ? 0 : 1), w, pfx, si, di, cmp, a32),
        });
      }
    }
  }
}

/**
 * rep movs/stos in the shapes the inline Wasm path (src/jit/isa/string.ts) treats specially:
 * 'overlap' puts the destination a few bytes after or before the source (x86 copies element by
 * element, so the pattern repeats), 'cross' makes both ranges straddle the data area's page
 * boundary (at offset 128), with elements that may straddle it too.
 */
type StrShape = 'random' | 'overlap' | 'cross';
for (const [name, op, si] of [['movs', 0xa4, true], ['stos', 0xaa, false]] as [string, number, boolean][]) {
  for (const shape of ['overlap', 'cross'] as StrShape[]) {
    if (shape === 'overlap' && name === 'stos') continue;
    for (const w of W) {
      const sfx = SUFFIX[Math.log2(w)];
      add({
        family: 'string', isa: [name + sfx], seq: false, weight: 0.5,
        id: `rep ${name}${sfx}, ${shape === 'overlap' ? 'overlapping ranges' : 'across a page boundary'} (f3 ${hex(op + (w === 1 ? 0 : 1))})`,
        gen: (b, f) => stringCase(b, f, name + sfx, op + (w === 1 ? 0 : 1), w, 0xf3, si, true, false, false, shape),
      });
    }
  }
}

function stringCase(b: Builder, f: Form, mn: string, op: number, w: Size, pfx: number, si: boolean, di: boolean, cmp: boolean, a32: boolean, shape: StrShape = 'random'): void {
  const r = b.rng;
  b.claim(1);
  b.claim(6);
  b.claim(7);
  b.claim(0);
  const dfSet = r.chance(0.5);
  b.rflags = dfSet ? b.rflags | BigInt(DF) : b.rflags & ~BigInt(DF);
  const n = shape !== 'random' ? r.range(2, Math.floor(96 / w)) : pfx ? r.pick([0, 1, 2, 3, r.range(1, 16), r.range(1, 16)]) : 1;
  const bytes = Math.max(n, 1) * w;
  const start = () => (dfSet ? r.range(bytes - w, SCRATCH - w) : r.range(0, SCRATCH - bytes));
  const garbage = () => (a32 ? BigInt(r.u32()) << 32n : 0n);
  let sOff = start(), dOff = start();
  const PAGE_AT = 128; // where the data area crosses a page (harness.c MEM_PAGE_OFF)
  if (shape === 'cross') {
    // The range [lo, lo + bytes) contains the boundary; with DF=1 the pointers start at its top element.
    const lo = () => r.range(Math.max(0, PAGE_AT - bytes + 1), PAGE_AT - 1);
    sOff = lo() + (dfSet ? bytes - w : 0);
    dOff = lo() + (dfSet ? bytes - w : 0);
  } else if (shape === 'overlap') {
    // The destination gap bytes after (or before) the source, within one range's length.
    const gap = r.range(1, bytes - 1) * (r.chance(0.5) ? 1 : -1);
    const lo = r.range(Math.max(0, -gap), SCRATCH - bytes - Math.max(0, gap));
    sOff = lo + (dfSet ? bytes - w : 0);
    dOff = sOff + gap;
  }
  if (pfx) b.setReg(1, garbage() | BigInt(n), 8);
  if (si) { b.setReg(6, garbage() + BigInt(sOff), 8); b.relmask |= 1 << 6; }
  if (di) { b.setReg(7, garbage() + BigInt(dOff), 8); b.relmask |= 1 << 7; }
  if (cmp) {
    // Make a run of equal elements (for repe) or plant the scanned value (for repne).
    const step = dfSet ? -w : w;
    const eq = r.int(n + 1);
    if (mn.startsWith('cmps')) {
      for (let i = 0; i < eq; i++) b.setMem(dOff + i * step, b.memVal(sOff + i * step, w), w);
    } else {
      const av = b.val(w);
      b.setReg(0, av, w);
      for (let i = 0; i < n; i++) {
        if (pfx === 0xf3 ? i < eq : i === eq) b.setMem(dOff + i * step, av, w);
      }
    }
  }
  const writes = cmp && n > 0 ? ARITH : 0;
  b.emit({ prefixes: [...(pfx ? [pfx] : []), ...(a32 ? [0x67] : [])], osize: w, opcode: [op] }, { form: f.id, mn, writes });
}

// ---- control transfers ---------------------------------------------------------------------

/** Marker instructions for branch bodies: they change a register so taken/not-taken differ. */
function marker(b: Builder): void {
  const r = b.reg(b.rng.pick([4, 8] as Size[]), { alias: false });
  switch (b.rng.int(3)) {
    case 0: b.emit({ osize: r.size, opcode: [0x81], reg: 0, rm: r, imms: [[BigInt(b.rng.range(1, 0x7fffffff)), 4]] }, { form: `add ${R(r.size)}, imm32 (81 /0)`, mn: 'add', writes: ARITH }); break;
    case 1: b.emit({ osize: r.size, opcode: [0xf7], reg: 2, rm: r }, { form: `not ${R(r.size)} (f7 /2)`, mn: 'not' }); break;
    default: b.emit({ osize: r.size, opcode: [0xb8], opreg: r, imms: [[BigInt(b.rng.u32()), r.size === 8 ? 8 : 4]] }, { form: 'mov r, imm (b8+r)', mn: r.size === 8 ? 'movabs' : 'mov' });
  }
}

/** A forward branch over a body; the flags after the join are undefined if undefined on either path. */
function overBody(b: Builder, emitBranch: () => number, body: () => void): void {
  const u0 = b.undef;
  const at = emitBranch();
  body();
  b.patchRel8(at);
  b.undef |= u0;
}

for (let cc = 0; cc < 16; cc++) {
  const n = CC_NAMES[cc];
  add({
    family: 'control', isa: [`j${n}`], seq: true, consumer: true, reads: CC_FLAGS[cc], weight: 0.4, id: `j${n} rel8 (${hex(0x70 + cc)})`,
    gen: (b, f) => {
      overBody(b, () => {
        const off = b.emit({ opcode: [0x70 + cc], rel: [0, 1] }, { form: f.id, mn: `j${n}`, reads: CC_FLAGS[cc] });
        return off + 1;
      }, () => b.branchBody(marker));
    },
  });
  add({
    family: 'control', isa: [`j${n}`], seq: true, consumer: true, reads: CC_FLAGS[cc], weight: 0.2, id: `j${n} rel32 (0f ${hex(0x80 + cc)})`,
    gen: (b, f) => {
      const u0 = b.undef;
      const off = b.emit({ opcode: [0x0f, 0x80 + cc], rel: [0, 4] }, { form: f.id, mn: `j${n}`, reads: CC_FLAGS[cc] });
      b.branchBody(marker);
      const d = b.code.length - (off + 6);
      for (let i = 0; i < 4; i++) b.code[off + 2 + i] = (d >> (8 * i)) & 0xff;
      b.undef |= u0;
    },
  });
}
add({
  family: 'control', isa: ['jmp'], seq: true, id: 'jmp rel8 (eb)',
  gen: (b, f) => {
    const off = b.emit({ opcode: [0xeb], rel: [0, 1] }, { form: f.id, mn: 'jmp' });
    const u0 = b.undef;
    b.branchBody(marker);
    b.patchRel8(off + 1);
    b.undef = u0;
  },
});
for (const [mn, op, a32] of [['jrcxz', 0xe3, false], ['jecxz', 0xe3, true], ['loop', 0xe2, false], ['loope', 0xe1, false], ['loopne', 0xe0, false]] as [string, number, boolean][]) {
  const reads = mn === 'loope' || mn === 'loopne' ? ZF : 0;
  add({
    family: 'control', isa: [mn], seq: false, consumer: !!reads, reads, id: `${mn} rel8 (${a32 ? '67 ' : ''}${hex(op)})`,
    gen: (b, f) => {
      b.claim(1);
      b.setReg(1, b.rng.pick([0n, 1n, 2n, b.regValue(), 0xffff_ffff_0000_0000n, 0x1_0000_0001n]), 8);
      overBody(b, () => {
        const off = b.emit({ prefixes: a32 ? [0x67] : [], opcode: [op], rel: [0, 1] }, { form: f.id, mn, reads });
        return off + (a32 ? 2 : 1);
      }, () => b.branchBody(marker));
    },
  });
}
add({
  family: 'control', isa: ['call', 'pop'], seq: false, id: 'call rel32 (e8) to the next instruction, pop',
  gen: (b, f) => {
    b.push(8);
    b.emit({ opcode: [0xe8], rel: [0, 4] }, { form: f.id, mn: 'call' });
    const r = b.reg(8);
    b.pop(8);
    b.emit({ opcode: [0x58], opreg: r }, { form: 'pop r64 (58+r)', mn: 'pop', ops: [r] });
  },
});
add({
  family: 'control', isa: ['call', 'ret', 'jmp'], seq: false, id: 'call rel32 (e8) / ret (c3)',
  gen: (b, f) => {
    // call L; jmp END; [marker]; L: [marker] ret; END:
    const c = b.emit({ opcode: [0xe8], rel: [0, 4] }, { form: f.id, mn: 'call' });
    const j = b.emit({ opcode: [0xeb], rel: [0, 1] }, { form: 'jmp rel8 (eb)', mn: 'jmp' });
    if (b.rng.chance(0.5)) marker(b);
    const d = b.code.length - (c + 5);
    for (let i = 0; i < 4; i++) b.code[c + 1 + i] = (d >> (8 * i)) & 0xff;
    marker(b);
    const imm16 = b.rng.chance(0.3);
    if (imm16) b.emit({ opcode: [0xc2], imms: [[8n, 2]] }, { form: 'ret imm16 (c2)', mn: 'ret' });
    else b.emit({ opcode: [0xc3] }, { form: 'ret (c3)', mn: 'ret' });
    b.patchRel8(j + 1);
    if (imm16) b.rsp += 8;
  },
});
for (const [how, mem] of [['r64', false], ['m64', true]] as [string, boolean][]) {
  add({
    family: 'control', isa: ['jmp'], seq: false, id: `jmp ${how} (ff /4)`,
    gen: (b, f) => {
      // lea r, [rip + END] (or a memory slot holding END); jmp r; [marker]; END:
      const r = b.reg(8);
      let m: Mem | undefined;
      let slot = 0;
      if (mem) { m = b.mem(8); slot = b.lastOff; }
      const fixups: number[] = [];
      if (!mem) {
        const lo = b.emit({ osize: 8, opcode: [0x8d], reg: r, rm: { kind: 'mem', base: 'rip', index: -1, scale: 1, disp: b.here, size: 0 } }, { form: 'lea r64, m (8d /r)', mn: 'lea' });
        fixups.push(lo);
      }
      b.emit({ opcode: [0xff], reg: 4, rm: mem ? m! : r }, { form: f.id, mn: 'jmp' });
      marker(b);
      const end = b.here;
      if (mem) b.setMem(slot, BigInt(end), 8);
      else {
        const lo = fixups[0];
        const d = end - (b.codeBase + lo + 7);
        for (let i = 0; i < 4; i++) b.code[lo + 3 + i] = (d >> (8 * i)) & 0xff;
      }
    },
  });
}

// ---- helpers used by the generator ---------------------------------------------------------

export function formById(id: string): Form | undefined {
  return forms.find((f) => f.id === id);
}

