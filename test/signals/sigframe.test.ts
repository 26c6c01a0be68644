/**
 * The signal frame's bytes (linux-abi/sigframe.ts) and the signal state's rules (signals.ts):
 * offsets as glibc's ucontext_t / siginfo_t name them, the fxsave image of the CPU block and its
 * restore, and Linux's order, forcing and alternate-stack rules.
 */
import { describe, expect, it } from 'vitest';
import { CC } from '../../src/jit/flags.js';
import { CPU, cpuBlockBase } from '../../src/core/layout.js';
import {
  cpuView, decodeUcontext, encodeFpstate, encodeHead, encodeSiginfo, FP_XSTATE_MAGIC1, FRAME_INFO, FRAME_SIZE,
  FRAME_UC, HEAD_SIZE, initFpu, restoreFpstate, restoreSigcontext, UC_MCONTEXT, UC_SIGMASK,
} from '../../src/linux-abi/sigframe.js';
import {
  SA_RESTORER, SI_KERNEL, SI_QUEUE, SI_TKILL, SIG_DFL, SIG_IGN, SignalState, SIGSEGV, SIGTERM, SIGUSR1, SIGUSR2,
  SIGILL, SIGFPE, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK,
} from '../../src/linux-abi/signals.js';
import { AddressSpace } from '../../src/paging/address-space.js';
import { FrameAllocator } from '../../src/paging/frames.js';
import { CpuState } from '../../src/core/cpu-state.js';

/** glibc's gregs indices (sys/ucontext.h). */
const REG = { R8: 0, R15: 7, RDI: 8, RSI: 9, RBP: 10, RBX: 11, RDX: 12, RAX: 13, RCX: 14, RSP: 15, RIP: 16, EFL: 17, CSGSFS: 18, ERR: 19, TRAPNO: 20, OLDMASK: 21, CR2: 22 };

function machine(): { cpu: CpuState; as: AddressSpace; view: () => DataView } {
  const frames = new FrameAllocator();
  const as = new AddressSpace(frames);
  const cpu = new CpuState(frames, cpuBlockBase(0));
  return { cpu, as, view: () => cpuView(cpu, as) };
}

const u64 = (b: Uint8Array, off: number): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(off, true);

describe('struct rt_sigframe', () => {
  it('has the x86-64 sizes and offsets', () => {
    expect(FRAME_SIZE).toBe(8 + 304 + 128);
    expect(FRAME_INFO).toBe(FRAME_UC + 304);
    expect(UC_MCONTEXT).toBe(40);
    expect(UC_SIGMASK).toBe(40 + 256);
    expect(HEAD_SIZE).toBe(8 + 40 + 192); // up to sigcontext.reserved1
  });

  it('puts registers where glibc reads gregs[REG_*]', () => {
    const { cpu, view } = machine();
    for (let r = 0; r < 16; r++) cpu.set(r, 0x1000n + BigInt(r));
    cpu.rip = 0x401234n;
    const head = encodeHead(view(), { rflags: 0x10246n, trapno: 14n, err: 6n, cr2: 0x10n }, 0x401000n,
      { sp: 0x7000n, flags: SS_AUTODISARM | 0, size: 0x4000n }, 0x800n, 0x7fff0000n);
    const g = (i: number) => u64(head, FRAME_UC + UC_MCONTEXT + 8 * i);
    expect(u64(head, 0)).toBe(0x401000n); // pretcode = sa_restorer
    expect(u64(head, FRAME_UC)).toBe(6n); // UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS, no UC_FP_XSTATE
    expect(u64(head, FRAME_UC + 8)).toBe(0n); // uc_link
    expect(u64(head, FRAME_UC + 16)).toBe(0x7000n);
    expect(new DataView(head.buffer).getInt32(FRAME_UC + 24, true)).toBe(SS_AUTODISARM | 0);
    expect(u64(head, FRAME_UC + 32)).toBe(0x4000n);
    expect(g(REG.R8)).toBe(0x1008n);
    expect(g(REG.R15)).toBe(0x100fn);
    expect([g(REG.RDI), g(REG.RSI), g(REG.RBP), g(REG.RBX), g(REG.RDX), g(REG.RAX), g(REG.RCX), g(REG.RSP)])
      .toEqual([0x1007n, 0x1006n, 0x1005n, 0x1003n, 0x1002n, 0x1000n, 0x1001n, 0x1004n]);
    expect(g(REG.RIP)).toBe(0x401234n);
    expect(g(REG.EFL)).toBe(0x10246n);
    expect(g(REG.CSGSFS)).toBe(0x002b_0000_0000_0033n); // cs 0x33, gs 0, fs 0, ss 0x2b
    expect([g(REG.ERR), g(REG.TRAPNO), g(REG.OLDMASK), g(REG.CR2)]).toEqual([6n, 14n, 0x800n, 0x10n]);
    expect(u64(head, FRAME_UC + UC_MCONTEXT + 184)).toBe(0x7fff0000n); // fpregs
  });

  it('encodes siginfo by si_code', () => {
    const dv = (b: Uint8Array) => new DataView(b.buffer);
    const fault = encodeSiginfo({ signo: SIGSEGV, code: 2, pid: 0, uid: 0, addr: 0xffff_8880_0000_1000n });
    expect(fault.length).toBe(128);
    expect([dv(fault).getInt32(0, true), dv(fault).getInt32(4, true), dv(fault).getInt32(8, true)]).toEqual([11, 0, 2]);
    expect(dv(fault).getBigUint64(16, true)).toBe(0xffff_8880_0000_1000n);
    const tkill = encodeSiginfo({ signo: SIGUSR1, code: SI_TKILL, pid: 1234, uid: 1000 });
    expect([dv(tkill).getInt32(8, true), dv(tkill).getInt32(16, true), dv(tkill).getUint32(20, true)]).toEqual([-6, 1234, 1000]);
    const queued = encodeSiginfo({ signo: SIGUSR1, code: SI_QUEUE, pid: 1, uid: 2, value: 4242n });
    expect(dv(queued).getBigUint64(24, true)).toBe(4242n);
    const kernel = encodeSiginfo({ signo: SIGSEGV, code: SI_KERNEL, pid: 0, uid: 0, addr: 0x1234n });
    expect(dv(kernel).getBigUint64(16, true)).toBe(0n); // SI_KERNEL: no address
    expect(fault.subarray(24).every((b) => b === 0)).toBe(true);
  });

  it('decodes what rt_sigreturn reads', () => {
    const uc = new Uint8Array(304);
    const dv = new DataView(uc.buffer);
    dv.setBigUint64(0, 6n, true);
    dv.setBigUint64(16, 0x5000n, true);
    dv.setInt32(24, SS_DISABLE, true);
    dv.setBigUint64(32, 0n, true);
    dv.setBigUint64(UC_SIGMASK, 0x1234n, true);
    expect(decodeUcontext(uc)).toEqual({ flags: 6n, stack: { sp: 0x5000n, flags: SS_DISABLE, size: 0n }, mask: 0x1234n });
  });

  it('restores registers and only the user-changeable RFLAGS bits', () => {
    const { cpu, view } = machine();
    cpu.setU64(CPU.rflags, 0x202n); // IF, bit 1
    const sc = new Uint8Array(192);
    const dv = new DataView(sc.buffer);
    for (let i = 0; i < 16; i++) dv.setBigUint64(8 * i, 0x100n + BigInt(i), true);
    dv.setBigUint64(128, 0x401000n, true);
    // CF ZF SF OF DF AC RF, and bits it must not take: IF clear, IOPL 3, NT, VM, ID
    dv.setBigUint64(136, 0x1n | 0x40n | 0x80n | 0x800n | 0x400n | 0x4_0000n | 0x1_0000n | 0x3000n | 0x4000n | 0x2_0000n | 0x20_0000n, true);
    dv.setBigUint64(184, 0xabc0n, true);
    expect(restoreSigcontext(view(), sc)).toBe(0xabc0n);
    expect(cpu.get(8)).toBe(0x100n); // r8 first
    expect(cpu.get(7)).toBe(0x108n); // rdi
    expect(cpu.get(4)).toBe(0x10fn); // rsp last
    expect(cpu.rip).toBe(0x401000n);
    expect(cpu.u32(CPU.ccOp)).toBe(CC.EFLAGS);
    expect(cpu.u64(CPU.ccRes)).toBe(0x1n | 0x40n | 0x80n | 0x800n);
    expect(cpu.u64(CPU.rflags)).toBe(0x202n | 0x400n | 0x4_0000n); // IF kept; DF and AC taken; RF dropped
  });
});

describe('FP state image', () => {
  function loadFpu(cpu: CpuState): void {
    cpu.setU32(CPU.fpCw, 0x027f);
    cpu.setU32(CPU.fpTop, 6);
    cpu.setU32(CPU.fpSw, 0x0004 | 0x4000); // ZE, C3
    cpu.setU32(CPU.fpTag, 0b1100_0000); // physical 6 and 7 valid
    cpu.setU32(CPU.fpOp, 0x1e9);
    cpu.setU64(CPU.fpIp, 0x401122n);
    cpu.setU64(CPU.fpDp, 0x7ffe0000n);
    for (let p = 0; p < 8; p++) {
      cpu.setU64(CPU.fpr + 16 * p, 0x8000_0000_0000_0000n + BigInt(p));
      cpu.setU32(CPU.fpr + 16 * p + 8, 0x3fff + p);
    }
    for (let n = 0; n < 32; n++) cpu.setU64(CPU.xmm + 8 * n, 0x0101_0101_0101_0101n * BigInt(n + 1));
    cpu.setU32(CPU.mxcsr, 0x7fc0);
  }

  it('is fxsave64 with ST(i) in stack order and the software-reserved bytes', () => {
    const { cpu, view } = machine();
    loadFpu(cpu);
    const b = encodeFpstate(view());
    const dv = new DataView(b.buffer);
    expect(dv.getUint16(0, true)).toBe(0x027f);
    // TOP = 6 in bits 11..13; ZE is masked (cw bit 2 set) so no ES/B
    expect(dv.getUint16(2, true)).toBe(0x4004 | (6 << 11));
    expect(b[4]).toBe(0b1100_0000);
    expect(dv.getUint16(6, true)).toBe(0x1e9);
    expect(dv.getBigUint64(8, true)).toBe(0x401122n);
    expect(dv.getBigUint64(16, true)).toBe(0x7ffe0000n);
    expect(dv.getUint32(24, true)).toBe(0x7fc0);
    expect(dv.getUint32(28, true)).toBe(0xffff);
    // ST(0) is physical register TOP = 6, ST(2) wraps to physical 0
    expect(dv.getBigUint64(32, true)).toBe(0x8000_0000_0000_0006n);
    expect(dv.getUint16(40, true)).toBe(0x3fff + 6);
    expect(dv.getBigUint64(32 + 32, true)).toBe(0x8000_0000_0000_0000n);
    expect(b.subarray(42, 48).every((x) => x === 0)).toBe(true);
    expect(dv.getBigUint64(160, true)).toBe(0x0101_0101_0101_0101n);
    expect(dv.getBigUint64(160 + 15 * 16 + 8, true)).toBe(0x0101_0101_0101_0101n * 32n);
    expect(dv.getUint32(464, true)).toBe(FP_XSTATE_MAGIC1);
    expect(dv.getUint32(468, true)).toBe(516);
    expect(dv.getBigUint64(472, true)).toBe(3n);
    expect(dv.getUint32(480, true)).toBe(512);
  });

  it('sets ES and B for an unmasked pending exception', () => {
    const { cpu, view } = machine();
    cpu.setU32(CPU.fpCw, 0x037b); // ZE unmasked
    cpu.setU32(CPU.fpSw, 0x0004);
    expect(new DataView(encodeFpstate(view()).buffer).getUint16(2, true)).toBe(0x8084);
  });

  it('round-trips through restore, and rejects reserved MXCSR bits', () => {
    const { cpu, view, as } = machine();
    loadFpu(cpu);
    const before = new Uint8Array(as.frames.memory.buffer, cpu.base + CPU.xmm, 0x4a4 - CPU.xmm).slice();
    const image = encodeFpstate(view());
    initFpu(view());
    expect(cpu.u32(CPU.fpCw)).toBe(0x37f);
    expect(cpu.u32(CPU.mxcsr)).toBe(0x1f80);
    expect(cpu.u64(CPU.xmm + 40)).toBe(0n);
    expect(cpu.u32(CPU.fpTag)).toBe(0);
    expect(restoreFpstate(view(), image)).toBe(true);
    const after = new Uint8Array(as.frames.memory.buffer, cpu.base + CPU.xmm, 0x4a4 - CPU.xmm);
    // fpr bytes 10..15 come back as zero; the rest is byte-identical
    for (let p = 0; p < 8; p++) before.fill(0, CPU.fpr - CPU.xmm + 16 * p + 10, CPU.fpr - CPU.xmm + 16 * p + 16);
    expect(Buffer.from(after).equals(Buffer.from(before))).toBe(true);
    new DataView(image.buffer).setUint32(24, 0x1_1f80, true);
    expect(restoreFpstate(view(), image)).toBe(false);
  });
});

describe('SignalState rules', () => {
  const act = (handler: bigint, flags = BigInt(SA_RESTORER)) => ({ handler, flags, restorer: 0x401000n, mask: 0n });

  it('takes synchronous signals first, then the lowest', () => {
    const st = new SignalState();
    for (const s of [SIGTERM, SIGUSR2, SIGSEGV, SIGUSR1, SIGILL]) st.raise({ signo: s, code: 0, pid: 1, uid: 0 });
    const order: number[] = [];
    for (let s = st.next(); s; s = st.next()) {
      order.push(s);
      st.dequeue(s);
    }
    expect(order).toEqual([SIGILL, SIGSEGV, SIGUSR1, SIGUSR2, SIGTERM]);
  });

  it('forces fault signals: blocked or ignored ones get SIG_DFL and are unblocked', () => {
    const st = new SignalState();
    st.setAction(SIGSEGV, act(0x401234n));
    expect(st.force({ signo: SIGSEGV, code: 1, pid: 0, uid: 0 })).toBe(true);
    st.discard(SIGSEGV);
    st.setBlocked(SignalState.bit(SIGSEGV));
    expect(st.force({ signo: SIGSEGV, code: 1, pid: 0, uid: 0 })).toBe(false);
    expect(st.action(SIGSEGV).handler).toBe(SIG_DFL);
    expect(st.isBlocked(SIGSEGV)).toBe(false);
    st.setAction(SIGFPE, act(SIG_IGN));
    expect(st.force({ signo: SIGFPE, code: 1, pid: 0, uid: 0 })).toBe(false);
    expect(st.action(SIGFPE).handler).toBe(SIG_DFL);
  });

  it('follows sigaltstack semantics', () => {
    const st = new SignalState();
    expect(st.sasSsFlags(0x7fff_0000n)).toBe(SS_DISABLE);
    expect(st.setAltstack({ sp: 0x10000n, size: 0x4000n, flags: 0 }, 0x7fff_0000n)).toBe(0);
    expect(st.reportAltstack(0x7fff_0000n).flags).toBe(0);
    expect(st.reportAltstack(0x12000n).flags).toBe(SS_ONSTACK);
    expect(st.onSigStack(0x14000n)).toBe(true); // sp == top is on it (sp - base <= size)
    expect(st.onSigStack(0x10000n)).toBe(false);
    expect(st.setAltstack({ sp: 0n, size: 0n, flags: SS_DISABLE }, 0x12000n)).toBe(1); // EPERM on it
    expect(st.setAltstack({ sp: 0x10000n, size: 100n, flags: 0 }, 0x7fff_0000n)).toBe(12); // ENOMEM
    expect(st.setAltstack({ sp: 0x10000n, size: 0x4000n, flags: 7 }, 0x7fff_0000n)).toBe(22); // EINVAL
    expect(st.setAltstack({ sp: 0x10000n, size: 0x4000n, flags: SS_AUTODISARM | 0 }, 0x7fff_0000n)).toBe(0);
    expect(st.onSigStack(0x12000n)).toBe(false); // SS_AUTODISARM: never "on" it
    expect(st.reportAltstack(0x12000n).flags).toBe(SS_AUTODISARM | 0);
    st.resetAltstack();
    expect(st.reportAltstack(0x12000n).flags).toBe(SS_DISABLE);
    expect(st.setAltstack({ sp: 0n, size: 0n, flags: SS_DISABLE }, 0n)).toBe(0);
  });
});
