/**
 * System and rarely used instructions, so that every mnemonic of the emulator's ISA table is
 * generated (coverage.ts lists the few that cannot be, with the test that covers each instead):
 * no-op encodings, syscall (sched_yield: rcx and r11 as the CPU sets them), cpuid and rdtsc (their
 * outputs masked: usmjit's CPUID advertises a subset of the host's by design, and time differs;
 * the rest of the state is compared), fs/gs base reads and writes, cmpxchg16b, and the
 * instructions that fault in user mode (the privileged ones #GP, ud0/ud1/vmcall #UD).
 */
import { ARITH, SCRATCH, STACK_OFF, ZF, type Builder } from './builder.js';
import { add, type Form } from './forms.js';
import { gpr, imm, type Mem } from './x86enc.js';

// ---- no-ops ----------------------------------------------------------------------------------------

for (const [mn, id, bytes] of [
  ['endbr32', 'endbr32 (f3 0f 1e fb)', [0xf3, 0x0f, 0x1e, 0xfb]],
  ['wait', 'wait (9b)', [0x9b]],
  ['fnop', 'fnop (d9 d0)', [0xd9, 0xd0]],
  ['feni8087_nop', 'feni8087_nop (db e0)', [0xdb, 0xe0]],
  ['fdisi8087_nop', 'fdisi8087_nop (db e1)', [0xdb, 0xe1]],
  ['fsetpm', 'fsetpm (db e4)', [0xdb, 0xe4]],
] as [string, string, number[]][]) {
  add({
    id, family: 'nop', isa: [mn], seq: true, body: true, weight: 0.3,
    // fnop leaves C0-C3 undefined (SDM); the 8087/287 leftovers are no-ops.
    gen: (b, f) => { b.emit({ opcode: bytes }, { form: f.id, mn, fpUndef: mn === 'fnop' ? 0x4700 : 0 }); },
  });
}
for (const [mn, id, pfx, op, digit] of [
  ['prefetch', 'prefetch m8 (0f 0d /0)', 0, [0x0f, 0x0d], 0],
  ['prefetchw', 'prefetchw m8 (0f 0d /1)', 0, [0x0f, 0x0d], 1],
  ['clflushopt', 'clflushopt m8 (66 0f ae /7)', 0x66, [0x0f, 0xae], 7],
] as [string, string, number, number[], number][]) {
  add({
    id, family: 'nop', isa: [mn], seq: true, body: true, weight: 0.3,
    gen: (b, f) => {
      const m = b.mem(1);
      b.emit({ prefixes: pfx ? [pfx] : [], opcode: op, reg: digit, rm: m }, { form: f.id, mn });
    },
  });
}

// ---- syscall, cpuid, rdtsc -----------------------------------------------------------------------

add({
  id: 'syscall (0f 05): sched_yield', family: 'system', isa: ['syscall'], seq: false,
  gen: (b, f) => {
    b.claim(0, 1, 11);
    b.setReg(0, 24n, 8); // sched_yield: returns 0
    b.emit({ opcode: [0x0f, 0x05] }, { form: f.id, mn: 'syscall' });
  },
});
add({
  id: 'cpuid (0f a2): outputs masked', family: 'system', isa: ['cpuid'], seq: false,
  gen: (b, f) => {
    b.claim(0, 1, 2, 3);
    const r = b.rng;
    b.setReg(0, BigInt(r.pick([0, 1, 4, 7, 0xb, 0xd, 0x80000000, 0x80000001, 0x80000008, r.u32()])), 4);
    b.setReg(1, BigInt(r.int(3)), 4);
    // usmjit advertises a subset of the host's features by design (src/vmx/cpuid.ts): what it
    // returns is checked by test/jit/cpuid-tsc.test.ts; here, that nothing else changes.
    for (const n of [0, 1, 2, 3]) b.undefReg(n, 0n);
    b.emit({ opcode: [0x0f, 0xa2] }, { form: f.id, mn: 'cpuid' });
  },
});
add({
  id: 'rdtsc (0f 31): outputs masked', family: 'system', isa: ['rdtsc'], seq: false,
  gen: (b, f) => {
    b.claim(0, 2);
    b.undefReg(0, 0n);
    b.undefReg(2, 0n);
    b.emit({ opcode: [0x0f, 0x31] }, { form: f.id, mn: 'rdtsc' });
  },
});

// ---- fs/gs base ----------------------------------------------------------------------------------

for (const [mn, digit] of [['rdfsbase', 0], ['rdgsbase', 1]] as [string, number][]) {
  for (const w of [4, 8] as const) {
    add({
      id: `${mn} r${w * 8} (f3 ${w === 8 ? 'rex.w ' : ''}0f ae /${digit})`, family: 'system', isa: [mn], seq: true, body: true, weight: 0.3,
      gen: (b, f) => {
        const r = b.reg(w, { high: false });
        b.emit({ prefixes: [0xf3], rexW: w === 8, opcode: [0x0f, 0xae], reg: digit, rm: r }, { form: f.id, mn, ops: [r] });
      },
    });
  }
}
// wrfsbase/wrgsbase: save the base, point it into the data area, load through it, restore it
// (the harness's next cases address fs:/gs: relative to its own bases).
for (const [seg, rd, wr] of [['fs', 0, 2], ['gs', 1, 3]] as ['fs' | 'gs', number, number][]) {
  add({
    id: `wr${seg}base r64 (f3 rex.w 0f ae /${wr}) with rd${seg}base, a ${seg}: load, restore`, family: 'system',
    isa: [`wr${seg}base`, `rd${seg}base`, 'mov'], seq: false,
    gen: (b, f) => {
      const save = b.reg(8, { high: false });
      const nb = b.reg(8, { high: false, avoid: [save.n] });
      const dst = b.reg(8, { high: false, avoid: [save.n, nb.n] });
      const off = b.rng.range(0, SCRATCH - 64);
      b.setReg(nb.n, BigInt(off), 8);
      b.relmask |= 1 << nb.n;
      b.emit({ prefixes: [0xf3], rexW: true, opcode: [0x0f, 0xae], reg: rd, rm: save }, { form: `rd${seg}base r64 (f3 rex.w 0f ae /${rd})`, mn: `rd${seg}base`, ops: [save] });
      b.emit({ prefixes: [0xf3], rexW: true, opcode: [0x0f, 0xae], reg: wr, rm: nb }, { form: f.id, mn: `wr${seg}base`, ops: [nb] });
      const m: Mem = { kind: 'mem', base: -1, index: -1, scale: 1, disp: b.rng.range(0, 56), size: 8, seg };
      b.emit({ osize: 8, opcode: [0x8b], reg: dst, rm: m }, { form: `mov r64, ${seg}:m64 (8b /r)`, mn: 'mov', ops: [dst, m] });
      b.emit({ prefixes: [0xf3], rexW: true, opcode: [0x0f, 0xae], reg: wr, rm: save }, { form: f.id, mn: `wr${seg}base`, ops: [save] });
    },
  });
}

// ---- cmpxchg16b ------------------------------------------------------------------------------------

add({
  id: 'cmpxchg16b m128 (rex.w 0f c7 /1)', family: 'move', isa: ['cmpxchg16b'], seq: false,
  gen: (b, f) => {
    b.claim(0, 1, 2, 3);
    const m = b.mem(16, { align: 16 });
    if (b.rng.chance(0.5)) {
      // rdx:rax equal to the memory operand: rcx:rbx is stored.
      b.setReg(0, b.memVal(b.lastOff, 8), 8);
      b.setReg(2, b.memVal(b.lastOff + 8, 8), 8);
    }
    b.emit({ rexW: true, opcode: [0x0f, 0xc7], reg: 1, rm: m }, { form: f.id, mn: 'cmpxchg16b', ops: [m], writes: ZF });
  },
});

// ---- instructions that fault at CPL3 (--signals: the harness reports "SIG n") ------------------------

const fault = (id: string, isa: string[], gen: (b: Builder, f: Form) => void) => add({ id: `fault: ${id}`, family: 'fault', isa, seq: false, fault: true, gen });
const simple = (mn: string, id: string, bytes: number[], rexW = false) =>
  fault(id, [mn], (b, f) => { b.emit({ rexW, opcode: bytes }, { form: f.id, mn }); });

simple('cli', 'cli (fa): #GP, SIGSEGV', [0xfa]);
simple('sti', 'sti (fb): #GP, SIGSEGV', [0xfb]);
simple('wrmsr', 'wrmsr (0f 30): #GP, SIGSEGV', [0x0f, 0x30]);
simple('rdmsr', 'rdmsr (0f 32): #GP, SIGSEGV', [0x0f, 0x32]);
simple('rdpmc', 'rdpmc (0f 33): #GP, SIGSEGV', [0x0f, 0x33]);
simple('wbinvd', 'wbinvd (0f 09): #GP, SIGSEGV', [0x0f, 0x09]);
simple('invd', 'invd (0f 08): #GP, SIGSEGV', [0x0f, 0x08]);
simple('clts', 'clts (0f 06): #GP, SIGSEGV', [0x0f, 0x06]);
simple('swapgs', 'swapgs (0f 01 f8): #GP, SIGSEGV', [0x0f, 0x01, 0xf8]);
simple('sysretq', 'sysretq (rex.w 0f 07): #GP, SIGSEGV', [0x0f, 0x07], true);
simple('vmcall', 'vmcall (0f 01 c1): #UD, SIGILL', [0x0f, 0x01, 0xc1]);
// 0f ff, 0f b9: Capstone decodes ud0 and ud1 without a ModRM byte (the AMD forms).
simple('ud0', 'ud0 (0f ff): #UD, SIGILL', [0x0f, 0xff]);
simple('ud1', 'ud1 (0f b9): #UD, SIGILL', [0x0f, 0xb9]);
fault('int imm8 (cd ib): no gate for CPL3, #GP, SIGSEGV', ['int'], (b, f) => {
  // Not 3 or 4 (int3/into-like gates Linux opens to user mode) nor 0x80 (the ia32 system call).
  const v = BigInt(b.rng.chance(0.5) ? b.rng.range(0x20, 0x7f) : b.rng.range(0x81, 0xff));
  b.emit({ opcode: [0xcd], imms: [[v, 1]] }, { form: f.id, mn: 'int', ops: [imm(v, 1)] });
});
for (const [mn, digit] of [['lgdt', 2], ['lidt', 3], ['invlpg', 7]] as [string, number][]) {
  fault(`${mn} m (0f 01 /${digit}): #GP, SIGSEGV`, [mn], (b, f) => {
    const m = b.mem(mn === 'invlpg' ? 1 : 10);
    if (mn !== 'invlpg') m.size = 0; // Capstone reports no access size for the pseudo-descriptor
    b.emit({ opcode: [0x0f, 0x01], reg: digit, rm: m }, { form: f.id, mn });
  });
}
for (const [mn, digit] of [['lldt', 2], ['ltr', 3]] as [string, number][]) {
  fault(`${mn} r16 (0f 00 /${digit}): #GP, SIGSEGV`, [mn], (b, f) => {
    const r = b.reg(2, { high: false });
    b.emit({ opcode: [0x0f, 0x00], reg: digit, rm: r }, { form: f.id, mn, ops: [r] });
  });
}
fault('invpcid r64, m128 (66 0f 38 82 /r): #GP, SIGSEGV', ['invpcid'], (b, f) => {
  const r = b.reg(8, { high: false });
  const m = b.mem(16);
  b.emit({ prefixes: [0x66], opcode: [0x0f, 0x38, 0x82], reg: r, rm: m }, { form: f.id, mn: 'invpcid', ops: [r, m] });
});
fault('iretq (rex.w cf) through a null code selector: #GP, SIGSEGV', ['iretq'], (b, f) => {
  // The frame at rsp (the data area's stack part): rip, cs = 0, rflags, rsp, ss.
  b.setMem(STACK_OFF, BigInt(b.layout.landing), 8);
  b.setMem(STACK_OFF + 8, 0n, 8);
  b.setMem(STACK_OFF + 16, 0x202n, 8);
  b.setMem(STACK_OFF + 24, BigInt(b.layout.mem + STACK_OFF + 40), 8);
  b.setMem(STACK_OFF + 32, 0x2bn, 8);
  b.emit({ rexW: true, opcode: [0xcf] }, { form: f.id, mn: 'iretq', undef: ARITH });
  void gpr;
});
