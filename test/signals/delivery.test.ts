/**
 * The delivery engine (linux-abi/signal-delivery.ts) against the kernel (rt_sigreturn and friends in
 * linux-abi/syscalls/signal.ts), without translated code: the CPU block is set by hand, a signal
 * is delivered, the frame is inspected, and rt_sigreturn must give back the exact state.
 */
import { describe, expect, it } from 'vitest';
import { CC } from '../../src/jit/flags.js';
import { CPU } from '../../src/core/layout.js';
import { FRAME_INFO, FRAME_UC, UC_MCONTEXT, UC_SIGMASK } from '../../src/linux-abi/sigframe.js';
import { SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SA_RESTORER, SA_SIGINFO, SIG_DFL, SignalState } from '../../src/linux-abi/signals.js';
import { Access, PROT_READ, PROT_WRITE, SEGV_ACCERR, SEGV_MAPERR } from '../../src/paging/address-space.js';
import { GuestKilled, Vector } from '../../src/core/exits.js';
import { exceptionFault, pageFault, SignalDelivery } from '../../src/linux-abi/signal-delivery.js';
import { harness } from '../linux-abi/harness.js';

const SIGILL = 4, SIGTRAP = 5, SIGFPE = 8, SIGUSR1 = 10, SIGSEGV = 11, SIGUSR2 = 12, SIGTERM = 15, SIGCHLD = 17;
const STACK = 0x7ff0_0000, STACK_SIZE = 0x10_0000;
const HANDLER = 0x40_1000n, RESTORER = 0x40_2000n;
const bit = (s: number) => 1n << BigInt(s - 1);

/** A kernel, a stack, a CPU in some state, and a delivery engine whose flags come from `flags`. */
function setup(opts: { strace?: boolean } = {}) {
  const h = harness();
  h.as.map(STACK, STACK_SIZE, PROT_READ | PROT_WRITE, '[stack]');
  const trace: string[] = [];
  let arith = 0x0;
  const engine = new SignalDelivery(h.cpu, h.as, () => arith, h.kernel.proc, opts.strace ? (l) => trace.push(l) : undefined);
  const cpu = h.cpu;
  for (let r = 0; r < 16; r++) cpu.set(r, 0x1111_0000n + BigInt(r));
  cpu.set(4, BigInt(STACK + STACK_SIZE - 0x1003)); // misaligned on purpose
  cpu.rip = 0x40_5000n;
  cpu.setU64(CPU.rflags, 0x202n | 0x400n); // IF, DF
  cpu.setU32(CPU.ccOp, CC.EFLAGS);
  cpu.setU64(CPU.ccRes, 0x85n);
  arith = 0x85; // CF PF SF
  cpu.setU32(CPU.mxcsr, 0x7f80);
  cpu.setU32(CPU.fpCw, 0x27f);
  cpu.setU64(CPU.xmm + 16 * 3, 0xdead_beefn);
  const install = (sig: number, flags = 0, mask = 0n) => {
    h.kernel.proc.signals.setAction(sig, { handler: HANDLER, flags: BigInt(SA_RESTORER | SA_SIGINFO | flags), restorer: RESTORER, mask });
  };
  return { h, cpu, engine, trace, install, st: h.kernel.proc.signals as SignalState };
}

function snapshot(h: ReturnType<typeof harness>): Uint8Array {
  return new Uint8Array(h.as.frames.memory.buffer, h.cpu.base, CPU.tlb).slice(0, 0x4a8);
}

describe('delivering a signal to a handler', () => {
  it('builds the frame, enters the handler, and rt_sigreturn restores everything', () => {
    const { h, cpu, engine, install, st } = setup();
    install(SIGUSR1, 0, bit(SIGTERM));
    const rsp0 = cpu.get(4);
    const before = snapshot(h);
    st.send({ signo: SIGUSR1, code: -6, pid: 77, uid: 1000 });
    expect(engine.hasWork()).toBe(true);
    engine.deliver();
    expect(engine.hasWork()).toBe(false);

    const frame = cpu.get(4);
    expect(frame + 128n + 440n <= rsp0).toBe(true); // below the red zone
    expect((frame + 8n) % 16n).toBe(0n); // as if called
    expect(cpu.rip).toBe(HANDLER);
    expect(cpu.get(7)).toBe(BigInt(SIGUSR1));
    expect(cpu.get(6)).toBe(frame + BigInt(FRAME_INFO));
    expect(cpu.get(2)).toBe(frame + BigInt(FRAME_UC));
    expect(cpu.get(0)).toBe(0n);
    expect(cpu.u64(CPU.rflags) & 0x400n).toBe(0n); // DF cleared
    expect(cpu.u32(CPU.mxcsr)).toBe(0x1f80);
    expect(cpu.u32(CPU.fpCw)).toBe(0x37f);
    expect(cpu.u64(CPU.xmm + 48)).toBe(0n);
    expect(st.blocked).toBe(bit(SIGUSR1) | bit(SIGTERM));

    const f = Number(frame);
    expect(h.as.readU64(f)).toBe(RESTORER);
    const sc = f + FRAME_UC + UC_MCONTEXT;
    expect(h.as.readU64(sc + 16 * 8)).toBe(0x40_5000n); // rip
    expect(h.as.readU64(sc + 15 * 8)).toBe(rsp0);
    expect(h.as.readU64(sc + 17 * 8)).toBe(0x202n | 0x400n | 0x85n); // eflags: no RF for a sent signal
    expect(h.as.readU64(f + FRAME_UC + UC_SIGMASK)).toBe(0n);
    expect(h.as.readU32(f + FRAME_INFO)).toBe(SIGUSR1);
    expect(h.as.readU32(f + FRAME_INFO + 8)).toBe(-6 >>> 0);
    expect(h.as.readU32(f + FRAME_INFO + 16)).toBe(77);
    const fp = Number(h.as.readU64(sc + 23 * 8));
    expect(fp % 64).toBe(0);
    expect(fp > f + 440).toBe(true);
    expect(h.as.readU32(fp + 24)).toBe(0x7f80); // the interrupted MXCSR

    // The handler changes the saved rax and rip, then returns through the restorer: ret pops
    // pretcode, and the restorer's syscall is rt_sigreturn (rax = 15).
    h.as.writeU64(sc + 13 * 8, 0x4242n);
    h.as.writeU64(sc + 16 * 8, 0x40_6000n);
    cpu.set(4, frame + 8n);
    const rax = h.sys('rt_sigreturn');
    cpu.set(0, rax);
    expect(rax).toBe(0x4242n);
    expect(cpu.rip).toBe(0x40_6000n);
    expect(st.blocked).toBe(0n);
    const after = snapshot(h);
    // Everything else is as before: GPRs (but rax), RFLAGS (as a materialised record), FP state.
    cpu.set(0, 0x1111_0000n);
    cpu.rip = 0x40_5000n;
    const again = snapshot(h);
    expect(Buffer.from(again.subarray(0, 0x90)).equals(Buffer.from(before.subarray(0, 0x90)))).toBe(true);
    expect(cpu.u32(CPU.ccOp)).toBe(CC.EFLAGS);
    expect(cpu.u64(CPU.ccRes)).toBe(0x85n);
    expect(cpu.u64(CPU.rflags)).toBe(0x602n);
    expect(Buffer.from(after.subarray(CPU.xmm, 0x4a4)).equals(Buffer.from(before.subarray(CPU.xmm, 0x4a4)))).toBe(true);
  });

  it('does not write siginfo without SA_SIGINFO, honours SA_NODEFER and SA_RESETHAND', () => {
    const { h, cpu, engine, st } = setup();
    st.setAction(SIGUSR2, { handler: HANDLER, flags: BigInt(SA_RESTORER | SA_NODEFER | SA_RESETHAND), restorer: RESTORER, mask: 0n });
    h.as.write(STACK, new Uint8Array(STACK_SIZE).fill(0xee));
    st.send({ signo: SIGUSR2, code: 0, pid: 1, uid: 2 });
    engine.deliver();
    expect(h.as.readU32(Number(cpu.get(4)) + FRAME_INFO)).toBe(0xeeeeeeee);
    expect(st.blocked).toBe(0n);
    expect(st.action(SIGUSR2).handler).toBe(SIG_DFL);
  });

  it('stacks several pending signals, lowest first, last-in first-out', () => {
    const { cpu, engine, install, st } = setup();
    install(SIGUSR1);
    install(SIGUSR2);
    st.setBlocked(bit(SIGUSR1) | bit(SIGUSR2));
    st.send({ signo: SIGUSR2, code: 0, pid: 1, uid: 0 });
    st.send({ signo: SIGUSR1, code: 0, pid: 1, uid: 0 });
    expect(engine.hasWork()).toBe(false);
    st.setBlocked(0n);
    const rsp0 = cpu.get(4);
    engine.deliver();
    // SIGUSR1 went first (deeper frame is SIGUSR2's, which runs first)
    expect(cpu.get(7)).toBe(BigInt(SIGUSR2));
    expect(cpu.get(4) < rsp0 - 2n * 1000n).toBe(true);
  });

  it('uses the alternate stack for SA_ONSTACK and autodisarms it', () => {
    const { h, cpu, engine, install, st } = setup();
    const alt = 0x7ff8_0000;
    h.sys('sigaltstack', 0, 0);
    h.as.write(0x7ff0_0000, (() => { const b = new Uint8Array(24); const v = new DataView(b.buffer); v.setBigUint64(0, BigInt(alt), true); v.setInt32(8, 0x8000_0000 | 0, true); v.setBigUint64(16, 0x8000n, true); return b; })());
    expect(h.sys('sigaltstack', 0x7ff0_0000, 0)).toBe(0n);
    install(SIGUSR1, SA_ONSTACK);
    st.send({ signo: SIGUSR1, code: 0, pid: 1, uid: 0 });
    engine.deliver();
    const frame = cpu.get(4);
    expect(frame > BigInt(alt) && frame < BigInt(alt + 0x8000)).toBe(true);
    expect(st.altstack.size).toBe(0n); // disarmed while the handler runs
    // uc_stack kept the armed stack; rt_sigreturn re-arms it
    cpu.set(4, frame + 8n);
    h.sys('rt_sigreturn');
    expect(st.altstack).toEqual({ sp: BigInt(alt), size: 0x8000n, flags: 0x8000_0000 | 0 });
  });

  it('turns a frame that cannot be written into SIGSEGV, and kills when that fails too', () => {
    const { cpu, engine, install, st } = setup();
    install(SIGUSR1);
    cpu.set(4, 0x1000n);
    st.send({ signo: SIGUSR1, code: 0, pid: 1, uid: 0 });
    let killed: GuestKilled | undefined;
    try {
      engine.deliver();
    } catch (e) {
      if (!(e instanceof GuestKilled)) throw e;
      killed = e;
    }
    expect(killed?.signo).toBe(SIGSEGV); // the forced SIGSEGV has SIG_DFL
    const s2 = setup();
    s2.install(SIGUSR1, 0);
    s2.install(SIGSEGV, 0);
    s2.st.setAction(SIGUSR1, { handler: HANDLER, flags: BigInt(SA_SIGINFO), restorer: 0n, mask: 0n }); // no SA_RESTORER
    s2.st.send({ signo: SIGUSR1, code: 0, pid: 1, uid: 0 });
    s2.engine.deliver();
    expect(s2.cpu.get(7)).toBe(BigInt(SIGSEGV)); // delivered to the SIGSEGV handler instead
    expect(s2.cpu.rip).toBe(HANDLER);
  });

  it('applies default actions: ignore, and kill with strace lines', () => {
    const { engine, st, trace } = setup({ strace: true });
    st.setBlocked(bit(SIGCHLD));
    st.send({ signo: SIGCHLD, code: 0, pid: 1, uid: 0 });
    st.setBlocked(0n);
    engine.deliver();
    expect(st.pending).toBe(0n);
    st.send({ signo: SIGTERM, code: 0, pid: 5, uid: 6 });
    expect(() => engine.deliver()).toThrow(GuestKilled);
    expect(trace).toEqual(['--- SIGTERM {si_signo=SIGTERM, si_code=SI_USER, si_pid=5, si_uid=6} ---', '+++ killed by SIGTERM +++']);
  });

  it('restores the mask rt_sigsuspend replaced', () => {
    const { h, engine, install, st, cpu } = setup();
    install(SIGUSR1);
    st.setBlocked(bit(SIGUSR1) | bit(SIGUSR2));
    st.send({ signo: SIGUSR1, code: 0, pid: 1, uid: 0 });
    h.as.writeU64(STACK, bit(SIGUSR2));
    expect(h.sys('rt_sigsuspend', STACK, 8)).toBe(-4n); // EINTR
    engine.deliver();
    const uc = Number(cpu.get(4)) + FRAME_UC;
    expect(h.as.readU64(uc + UC_SIGMASK)).toBe(bit(SIGUSR1) | bit(SIGUSR2)); // the mask before sigsuspend
    expect(st.blocked).toBe(bit(SIGUSR1) | bit(SIGUSR2));
    cpu.set(4, cpu.get(4) + 8n);
    h.sys('rt_sigreturn');
    expect(st.blocked).toBe(bit(SIGUSR1) | bit(SIGUSR2));
  });

  it('sends SIGSEGV for a bad rt_sigreturn frame', () => {
    const { h, cpu, st } = setup();
    cpu.set(4, 0x10n);
    expect(h.sys('rt_sigreturn')).toBe(0n);
    expect(st.pending).toBe(bit(SIGSEGV));
    expect(st.infoOf(SIGSEGV)?.code).toBe(0x80);
  });
});

describe('faults', () => {
  it('reports page faults with Linux error codes', () => {
    const { h } = setup();
    h.as.map(0x5000_0000, 0x2000, PROT_READ);
    h.as.write(0x5000_0000, new Uint8Array(1), true); // populated (present)
    const f = pageFault(h.as, 0x5000_0010n, Access.Write, SEGV_ACCERR, 0x401000n);
    expect([f.signo, f.code, f.err, f.trapno, f.cr2, f.rf]).toEqual([SIGSEGV, SEGV_ACCERR, 7, 14, 0x5000_0010n, true]);
    expect(pageFault(h.as, 0x5000_1000n, Access.Write, SEGV_ACCERR, 0n).err).toBe(6); // never touched
    expect(pageFault(h.as, 0x10n, Access.Read, SEGV_MAPERR, 0n).err).toBe(4);
    expect(pageFault(h.as, 0x10n, Access.Exec, SEGV_MAPERR, 0n).err).toBe(0x14);
    expect(pageFault(h.as, 0x5000_0000n, Access.Exec, SEGV_ACCERR, 0n).err).toBe(0x15);
    expect(pageFault(h.as, 0xffff_8880_0000_0000n, Access.Read, SEGV_MAPERR, 0n).err).toBe(5);
  });

  it('maps exception vectors to signals, rip after a trap', () => {
    const { h, cpu } = setup();
    const bytes = (a: bigint) => (a === 0x1000n ? new Uint8Array([0xcd, 0x03]) : a === 0x2000n ? new Uint8Array([0xcd, 0x80]) : new Uint8Array([0xcc, 0]));
    const ex = (v: number, insn = 0x3000n, error = 0, cr2?: bigint) => exceptionFault({ vector: v, error, rip: insn, cr2 }, cpu, h.as, bytes);
    expect(ex(Vector.DE)).toMatchObject({ signo: SIGFPE, code: 1, addr: 0x3000n, trapno: 0, rip: 0x3000n });
    expect(ex(Vector.UD)).toMatchObject({ signo: SIGILL, code: 2, addr: 0x3000n, trapno: 6 });
    expect(ex(Vector.BP)).toMatchObject({ signo: SIGTRAP, code: 0x80, rip: 0x3001n, rf: false });
    expect(ex(Vector.GP, 0x1000n)).toMatchObject({ signo: SIGTRAP, rip: 0x1002n, trapno: 3 });
    expect(ex(Vector.GP, 0x2000n)).toMatchObject({ signo: SIGSEGV, code: 0x80, err: 0x402, trapno: 13, rip: 0x2000n });
    expect(ex(Vector.PF, 0x3000n, 0x14, 0x7000n)).toMatchObject({ signo: SIGSEGV, code: 1, addr: 0x7000n, err: 0x14 });
    cpu.setU32(CPU.fpCw, 0x37b); // ZE unmasked
    cpu.setU32(CPU.fpSw, 0x4);
    expect(ex(Vector.MF)).toMatchObject({ signo: SIGFPE, code: 3, trapno: 16 });
  });

  it('delivers a fault to a handler with RF in the saved flags, and kills when it is blocked', () => {
    const { h, cpu, engine, install, st } = setup();
    install(SIGSEGV);
    const f = pageFault(h.as, 0x10n, Access.Write, SEGV_MAPERR, 0x40_5000n);
    expect(engine.fault(f)).toBe(true);
    const sc = Number(cpu.get(4)) + FRAME_UC + UC_MCONTEXT;
    expect(h.as.readU64(sc + 17 * 8) & 0x1_0000n).toBe(0x1_0000n);
    expect(h.as.readU64(sc + 19 * 8)).toBe(6n); // err
    expect(h.as.readU64(sc + 20 * 8)).toBe(14n); // trapno
    expect(h.as.readU64(sc + 22 * 8)).toBe(0x10n); // cr2
    expect(h.as.readU64(Number(cpu.get(6)) + 16)).toBe(0x10n); // si_addr
    // SIGSEGV is now blocked (no SA_NODEFER): a second fault in the handler kills
    expect(st.isBlocked(SIGSEGV)).toBe(true);
    expect(engine.fault(pageFault(h.as, 0x20n, Access.Read, SEGV_MAPERR, HANDLER))).toBe(false);
  });
});
