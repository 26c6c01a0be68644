/**
 * More forms: self-modifying code inside the snippet, indirect calls, leave, no-op-like
 * instructions (nop/pause/fences/prefetch), xlatb and cmpxchg8b, a few MMX templates (MMX is
 * advertised by CPUID), and the faulting forms used only with --signals.
 */
import { ARITH, SCRATCH, STACK_OFF, ZF, Retry, type Builder } from './builder.js';
import { add, type Form } from './forms.js';
import { gpr, imm, xmm, type Mem } from './x86enc.js';

const ripMem = (target: number, size: number): Mem => ({ kind: 'mem', base: 'rip', index: -1, scale: 1, disp: target, size });

// ---- self-modifying code ------------------------------------------------------------------------

/**
 * A store into a later instruction of the same snippet (its immediate, or its opcode), then that
 * instruction: in the same block, or after a block boundary (jmp +0). x86 guarantees the store is
 * seen by the following instruction fetch.
 */
for (const boundary of [false, true]) {
  for (const what of ['imm8', 'imm32', 'opcode'] as const) {
    add({
      id: `smc: store to a following instruction's ${what}${boundary ? ', after a jmp' : ', same block'}`,
      family: 'smc', isa: ['mov', 'add', 'sub', 'jmp'], seq: false,
      gen: (b: Builder, f: Form) => {
        const r = b.reg(4, { avoid: [0] });
        const newImm = BigInt(b.rng.u32());
        const at = b.here;
        const storeLen = what === 'imm32' ? 10 : 7; // c7 05 d32 i32 | c6 05 d32 i8
        const gap = boundary ? 2 : 0;
        // Target instruction: mov r32, imm32 (b8+r, REX.B if r >= 8), or add eax, imm32 (05 id) for opcode patches.
        const tgtStart = at + storeLen + gap;
        let target: number;
        if (what === 'opcode') target = tgtStart;
        else target = tgtStart + (r.n >= 8 ? 1 : 0) + 1 + (what === 'imm8' ? b.rng.int(4) : 0);
        if (what === 'imm32') {
          b.emit({ opcode: [0xc7], reg: 0, rm: ripMem(target, 4), imms: [[newImm, 4]] }, { form: f.id, mn: 'mov' });
        } else {
          const v = what === 'opcode' ? 0x2dn /* sub eax, imm32 */ : newImm & 0xffn;
          b.emit({ opcode: [0xc6], reg: 0, rm: ripMem(target, 1), imms: [[v, 1]] }, { form: f.id, mn: 'mov' });
        }
        if (boundary) b.emit({ opcode: [0xeb], rel: [0, 1] }, { form: 'jmp rel8 (eb)', mn: 'jmp' });
        if (b.here !== tgtStart) throw new Error('smc layout');
        if (what === 'opcode') {
          b.claim(0);
          b.emit({ opcode: [0x05], imms: [[BigInt(b.rng.u32()), 4]] }, { form: 'add eax, imm32 (05)', mn: 'add', writes: ARITH });
        } else {
          b.emit({ opcode: [0xb8], opreg: r, imms: [[BigInt(b.rng.u32()), 4]] }, { form: 'mov r32, imm32 (b8+r)', mn: 'mov' });
        }
      },
    });
  }
}

/**
 * rep stos over the immediate of the next instruction: the write lands on a page holding
 * translated code (no TLB write tag there), so the inline Wasm path must leave it to TypeScript,
 * which invalidates the translation before the patched instruction runs.
 */
for (const w of [1, 4] as const) {
  add({
    id: `smc: rep stos${w === 1 ? 'b' : 'd'} over the next instruction's imm32`,
    family: 'smc', isa: [w === 1 ? 'stosb' : 'stosd', 'mov'], seq: false,
    gen: (b: Builder, f: Form) => {
      for (const n of [0, 1, 7]) b.claim(n);
      const r = b.reg(4, { avoid: [0, 1, 7] });
      b.rflags &= ~(1n << 10n); // DF clear: the fill runs forward over the immediate
      const imm = b.here + 2 /* f3 aa | f3 ab */ + (r.n >= 8 ? 1 : 0) + 1;
      b.setReg(7, BigInt(imm), 8);
      b.setReg(1, BigInt(4 / w), 8);
      b.setReg(0, BigInt(b.rng.u32()), 8);
      b.emit({ prefixes: [0xf3], opcode: [w === 1 ? 0xaa : 0xab] }, { form: f.id, mn: w === 1 ? 'stosb' : 'stosd' });
      b.emit({ opcode: [0xb8], opreg: r, imms: [[BigInt(b.rng.u32()), 4]] }, { form: 'mov r32, imm32 (b8+r)', mn: 'mov' });
    },
  });
}

// ---- indirect calls, leave ------------------------------------------------------------------------

for (const how of ['r64', 'm64'] as const) {
  add({
    id: `call ${how} (ff /2) / ret`, family: 'control', isa: ['call', 'ret', 'lea', 'jmp'], seq: false,
    gen: (b, f) => {
      // lea r, [rip+L] (or a memory slot holding L); call r; jmp END; L: marker; ret; END:
      const r = b.reg(8);
      let m: Mem | undefined;
      let slot = 0;
      if (how === 'm64') { m = b.mem(8); slot = b.lastOff; }
      let leaAt = -1;
      if (how === 'r64') leaAt = b.emit({ osize: 8, opcode: [0x8d], reg: r, rm: ripMem(b.here, 0) }, { form: 'lea r64, m (8d /r)', mn: 'lea' });
      b.emit({ opcode: [0xff], reg: 2, rm: how === 'm64' ? m! : r }, { form: f.id, mn: 'call' });
      const j = b.emit({ opcode: [0xeb], rel: [0, 1] }, { form: 'jmp rel8 (eb)', mn: 'jmp' });
      const L = b.here;
      const body = b.reg(8, { avoid: [r.n] });
      b.emit({ osize: 8, opcode: [0xf7], reg: 2, rm: body }, { form: 'not r64 (f7 /2)', mn: 'not' });
      b.emit({ opcode: [0xc3] }, { form: 'ret (c3)', mn: 'ret' });
      b.patchRel8(j + 1);
      if (how === 'm64') b.setMem(slot, BigInt(L), 8);
      else {
        const d = L - (b.codeBase + leaAt + 7);
        for (let i = 0; i < 4; i++) b.code[leaAt + 3 + i] = (d >> (8 * i)) & 0xff;
      }
    },
  });
}

add({
  id: 'leave (c9)', family: 'stack', isa: ['leave'], seq: false,
  gen: (b, f) => {
    // rbp points into the stack part of the data area; leave: rsp = rbp; pop rbp.
    b.claim(5);
    const off = SCRATCH + 8 * b.rng.range(0, (STACK_OFF + 64 - SCRATCH) / 8);
    b.setReg(5, BigInt(off), 8);
    b.relmask |= 1 << 5;
    b.emit({ opcode: [0xc9] }, { form: f.id, mn: 'leave' });
  },
});

// ---- rsp as an operand (single instruction: the landing code does not need the stack) ---------

const RSP = gpr(4, 8);
for (const [id, mn, spec, ops] of [
  ['push rsp (54)', 'push', { opcode: [0x54] }, [RSP]],
  ['pop rsp (5c)', 'pop', { opcode: [0x5c] }, [RSP]],
  ['add rsp, imm8 (83 /0)', 'add', { osize: 8, opcode: [0x83], reg: 0, rm: RSP, imms: [[0x28n, 1]] }, [RSP, imm(0x28n, 8)]],
  ['sub rsp, imm8 (83 /5)', 'sub', { osize: 8, opcode: [0x83], reg: 5, rm: RSP, imms: [[0x18n, 1]] }, [RSP, imm(0x18n, 8)]],
  ['and rsp, imm8 (83 /4)', 'and', { osize: 8, opcode: [0x83], reg: 4, rm: RSP, imms: [[0xe0n, 1]] }, [RSP, imm(-32n, 8)]],
] as [string, string, Parameters<Builder['emit']>[0], Parameters<Builder['emit']>[1]['ops']][]) {
  add({
    id, family: 'stack', isa: [mn], seq: false,
    gen: (b, f) => {
      const fx = mn === 'push' || mn === 'pop' ? {} : { writes: ARITH & (mn === 'and' ? ~0x10 : ~0), undef: mn === 'and' ? 0x10 : 0 };
      b.emit(spec, { form: f.id, mn, ops, ...fx });
    },
  });
}
for (const [id, op, toRsp] of [['mov r64, rsp (89 /r)', 0x89, false], ['mov rsp, r64 (89 /r)', 0x89, true], ['xchg r64, rsp (87 /r)', 0x87, false]] as [string, number, boolean][]) {
  add({
    id, family: 'stack', isa: [op === 0x87 ? 'xchg' : 'mov'], seq: false,
    gen: (b, f) => {
      const r = b.reg(8);
      if (toRsp) b.emit({ osize: 8, opcode: [op], reg: r, rm: RSP }, { form: f.id, mn: 'mov', ops: [RSP, r] });
      else b.emit({ osize: 8, opcode: [op], reg: RSP, rm: r }, { form: f.id, mn: op === 0x87 ? 'xchg' : 'mov', ops: [r, RSP] });
    },
  });
}
add({
  id: 'lea r64, [rsp + disp] (8d /r)', family: 'stack', isa: ['lea'], seq: true, body: true,
  gen: (b, f) => {
    const r = b.reg(8);
    const m: Mem = { kind: 'mem', base: 4, index: -1, scale: 1, disp: b.rng.range(-300, 300), size: 0 };
    b.emit({ osize: 8, opcode: [0x8d], reg: r, rm: m }, { form: f.id, mn: 'lea', ops: [r, m] });
  },
});

for (const level of [0, 1]) {
  add({
    id: `enter imm16, ${level} (c8 iw ${level})`, family: 'stack', isa: ['enter'], seq: false,
    gen: (b, f) => {
      b.claim(5);
      const size = BigInt(8 * b.rng.range(0, 8));
      b.emit({ opcode: [0xc8], imms: [[size, 2], [BigInt(level), 1]] }, { form: f.id, mn: 'enter', ops: [imm(size, 2), imm(BigInt(level), 1)] });
    },
  });
}

// ---- no-op-like ----------------------------------------------------------------------------------

const nops: [string, string, number[], number?][] = [
  ['nop', 'nop (90)', [0x90]],
  ['pause', 'pause (f3 90)', [0xf3, 0x90]],
  ['lfence', 'lfence (0f ae e8)', [0x0f, 0xae, 0xe8]],
  ['mfence', 'mfence (0f ae f0)', [0x0f, 0xae, 0xf0]],
  ['sfence', 'sfence (0f ae f8)', [0x0f, 0xae, 0xf8]],
  ['endbr64', 'endbr64 (f3 0f 1e fa)', [0xf3, 0x0f, 0x1e, 0xfa]],
];
for (const [mn, id, bytes] of nops) {
  add({
    id, family: 'nop', isa: [mn], seq: true, body: true, weight: 0.3,
    gen: (b, f) => { b.emit({ opcode: bytes }, { form: f.id, mn }); },
  });
}
for (const [mn, id, op, digit, w] of [
  ['nop', 'nop m16 (66 0f 1f /0)', [0x0f, 0x1f], 0, 2], ['nop', 'nop m32 (0f 1f /0)', [0x0f, 0x1f], 0, 4],
  ['prefetchnta', 'prefetchnta m8 (0f 18 /0)', [0x0f, 0x18], 0, 0], ['prefetcht0', 'prefetcht0 m8 (0f 18 /1)', [0x0f, 0x18], 1, 0],
  ['prefetcht1', 'prefetcht1 m8 (0f 18 /2)', [0x0f, 0x18], 2, 0], ['prefetcht2', 'prefetcht2 m8 (0f 18 /3)', [0x0f, 0x18], 3, 0],
  ['clflush', 'clflush m8 (0f ae /7)', [0x0f, 0xae], 7, 0],
] as [string, string, number[], number, number][]) {
  add({
    id, family: 'nop', isa: [mn], seq: true, body: true, weight: 0.3,
    gen: (b, f) => {
      const m = b.mem(w || 1);
      if (mn === 'nop') m.size = w;
      b.emit({ osize: w === 2 ? 2 : 0, opcode: op, reg: digit, rm: m }, { form: f.id, mn });
    },
  });
}

// ---- xlatb, cmpxchg8b ------------------------------------------------------------------------------

add({
  id: 'xlatb (d7)', family: 'move', isa: ['xlatb'], seq: false,
  gen: (b, f) => {
    b.claim(0, 3);
    b.setReg(3, BigInt(b.rng.range(0, SCRATCH - 256)), 8);
    b.relmask |= 1 << 3;
    b.emit({ opcode: [0xd7] }, { form: f.id, mn: 'xlatb' });
  },
});
add({
  id: 'cmpxchg8b m64 (0f c7 /1)', family: 'move', isa: ['cmpxchg8b'], seq: false,
  gen: (b, f) => {
    b.claim(0, 1, 2, 3);
    const m = b.mem(8);
    if (b.rng.chance(0.5)) {
      const v = b.memVal(b.lastOff, 8);
      b.setReg(0, v & 0xffff_ffffn, 8);
      b.setReg(2, v >> 32n, 8);
      // Upper halves of rax/rdx are random again: only edx:eax is compared.
      b.gpr[0] |= BigInt(b.rng.u32()) << 32n;
    }
    b.emit({ opcode: [0x0f, 0xc7], reg: 1, rm: m }, { form: f.id, mn: 'cmpxchg8b', ops: [m], writes: ZF });
  },
});

// ---- MMX (advertised by CPUID.1:EDX.MMX) ---------------------------------------------------------

/** movd mm, r32; movq mm, m64; OP mm, mm; movd r32, mm; emms. mm registers are encoded like xmm0-7. */
for (const [mn, op] of [['paddb', 0xfc], ['paddw', 0xfd], ['psubd', 0xfa], ['pxor', 0xef], ['pmullw', 0xd5], ['pcmpeqb', 0x74], ['punpcklbw', 0x60], ['psrlq', 0xd3]] as [string, number][]) {
  add({
    id: `mmx: ${mn} mm, mm (0f ${op.toString(16)}) with movd/movq/emms`, family: 'mmx', isa: ['emms', 'movd', 'movq', mn], seq: false,
    gen: (b, f) => {
      const a = b.rng.int(8);
      let c = b.rng.int(8);
      if (c === a) c = (a + 1) % 8;
      const r1 = b.reg(4, { high: false });
      b.emit({ opcode: [0x0f, 0x6e], reg: xmm(a), rm: r1 }, { form: 'movd mm, r32 (0f 6e)', mn: 'movd' });
      const m = b.mem(8);
      b.emit({ opcode: [0x0f, 0x6f], reg: xmm(c), rm: m }, { form: 'movq mm, m64 (0f 6f)', mn: 'movq' });
      b.emit({ opcode: [0x0f, op], reg: xmm(a), rm: xmm(c) }, { form: f.id, mn });
      const r2 = b.reg(4, { high: false });
      b.emit({ opcode: [0x0f, 0x7e], reg: xmm(a), rm: r2 }, { form: 'movd r32, mm (0f 7e)', mn: 'movd' });
      const m2 = b.mem(8);
      b.emit({ opcode: [0x0f, 0x7f], reg: xmm(c), rm: m2 }, { form: 'movq m64, mm (0f 7f)', mn: 'movq' });
      b.emit({ opcode: [0x0f, 0x77] }, { form: 'emms (0f 77)', mn: 'emms' });
    },
  });
}

// ---- faulting forms (only with --signals: the harness reports "SIG n") -------------------------

const fault = (id: string, isa: string[], gen: (b: Builder, f: Form) => void) => add({ id: `fault: ${id}`, family: 'fault', isa, seq: false, fault: true, gen });

fault('div r64 by zero (#DE, SIGFPE)', ['div'], (b, f) => {
  b.claim(0, 2);
  const r = b.reg(8, { avoid: [0, 2] });
  b.setReg(r.n, 0n, 8);
  b.emit({ osize: 8, opcode: [0xf7], reg: 6, rm: r }, { form: f.id, mn: 'div', ops: [r], undef: ARITH });
});
fault('div r32 quotient overflow (#DE, SIGFPE)', ['div'], (b, f) => {
  b.claim(0, 2);
  const r = b.reg(4, { avoid: [0, 2] });
  const d = BigInt(b.rng.range(1, 0xffff));
  b.setReg(r.n, d, 4);
  b.setReg(2, d + BigInt(b.rng.int(1000)), 4);
  b.emit({ opcode: [0xf7], reg: 6, rm: r }, { form: f.id, mn: 'div', ops: [r], undef: ARITH });
});
fault('idiv r32 INT_MIN / -1 (#DE, SIGFPE)', ['idiv'], (b, f) => {
  b.claim(0, 2);
  const r = b.reg(4, { avoid: [0, 2] });
  b.setReg(r.n, 0xffff_ffffn, 4);
  b.setReg(0, 0x8000_0000n, 4);
  b.setReg(2, 0xffff_ffffn, 4);
  b.emit({ opcode: [0xf7], reg: 7, rm: r }, { form: f.id, mn: 'idiv', ops: [r], undef: ARITH });
});
fault('ud2 (#UD, SIGILL)', ['ud2'], (b, f) => { b.emit({ opcode: [0x0f, 0x0b] }, { form: f.id, mn: 'ud2' }); });
fault('int3 (#BP, SIGTRAP)', ['int3'], (b, f) => { b.emit({ opcode: [0xcc] }, { form: f.id, mn: 'int3' }); });
fault('hlt in user mode (#GP, SIGSEGV)', ['hlt'], (b, f) => { b.emit({ opcode: [0xf4] }, { form: f.id, mn: 'hlt' }); });
fault('load from an unmapped page (#PF, SIGSEGV)', ['mov'], (b, f) => {
  const r = b.reg(8);
  const base = b.reg(8, { avoid: [r.n] });
  b.setReg(base.n, BigInt(b.rng.pick([0, 0x1000, 0x8000, 0x0fff_f000])), 8);
  b.emit({ osize: 8, opcode: [0x8b], reg: r, rm: { kind: 'mem', base: base.n, index: -1, scale: 1, disp: b.rng.range(0, 0xff), size: 8 } }, { form: f.id, mn: 'mov' });
});
fault('store to read-only code of the harness (#PF, SIGSEGV)', ['mov'], (b, f) => {
  const r = b.reg(8);
  b.emit({ osize: 8, opcode: [0x89], reg: r, rm: { kind: 'mem', base: -1, index: -1, scale: 1, disp: b.layout.landing, size: 8 } }, { form: f.id, mn: 'mov' });
});
fault('non-canonical address (#GP, SIGSEGV)', ['mov'], (b, f) => {
  const r = b.reg(8);
  // Not rbp: an rbp-based access uses SS, and a non-canonical one is #SS (SIGBUS natively), which
  // usmjit reports as #GP (a known gap, see paging/mmu.ts NonCanonical).
  const base = b.reg(8, { avoid: [r.n, 5] });
  b.setReg(base.n, 0x8000_0000_0000_0000n | BigInt(b.rng.u32()), 8);
  b.emit({ osize: 8, opcode: [0x8b], reg: r, rm: { kind: 'mem', base: base.n, index: -1, scale: 1, disp: 0, size: 8 } }, { form: f.id, mn: 'mov' });
});
fault('jump to non-executable data (#PF, SIGSEGV)', ['jmp'], (b, f) => {
  const r = b.reg(8);
  b.setReg(r.n, BigInt(b.rng.range(0, SCRATCH - 16)), 8);
  b.relmask |= 1 << r.n;
  b.emit({ opcode: [0xff], reg: 4, rm: r }, { form: f.id, mn: 'jmp' });
});
fault('movaps from a misaligned address (#GP, SIGSEGV)', ['movaps'], (b, f) => {
  const m = b.mem(16);
  if ((b.layout.mem + b.lastOff) % 16 === 0) throw new Retry('aligned');
  b.emit({ opcode: [0x0f, 0x28], reg: xmm(b.rng.int(8)), rm: m }, { form: f.id, mn: 'movaps' });
});

