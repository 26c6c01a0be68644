/**
 * The USM fast paths: one Wasm module per machine whose functions the translated code reaches
 * through the runtime table (jit/runtime-table.ts), so that the common USM events never leave
 * Wasm (no JavaScript call, no return to the dispatcher):
 *   rd / wr        slow-path loads and stores: a TLB miss walks the guest page tables in Wasm
 *                  (walk.ts); a #PF is recorded like the TypeScript path records it
 *   raise          a region leaving with an exception: delivery through the IDT (gate, RSP0/IST
 *                  stack switch, frame, CR2), then on into the handler
 *   iret, syscall  iretq at CPL0, syscall at CPL3 (the transfer to LSTAR)
 *   invlpg         drops the page's TLB entries (TypeScript when code may come from it)
 *   resume         continues at cpu.rip with the translation key of the current CPL: the jump
 *                  cache, then the region by a tail call
 * Each gives up to the TypeScript implementation (vmx/idt.ts, vmx/privileged.ts, paging/mmu.ts)
 * for anything unusual, before changing guest state: a double fault, a frame crossing a page, a
 * page not in the frame cache, single-stepping (TF/RF), watchpoints (CPU.usmFast is 0 then).
 * Outside USM mode CPU.usmFast is 0 and rd/wr call TypeScript directly.
 */
import { Pending } from '../../core/exception.js';
import { Exit, Vector } from '../../core/exits.js';
import { CODE_FILTER_BASE, CODE_FILTER_BITS, CPU, MODE_STRIDE, Mode, PAGE_SIZE, TLB, TLB_BANK_SIZE, TLB_ENTRIES, TLB_ENTRY_SHIFT } from '../../core/layout.js';
import { ARITH_FLAGS, F, RFLAGS_VALID } from '../../core/rflags.js';
import { emitJumpCacheFind, tagFor } from '../../jit/entry.js';
import { Fn, ModuleBuilder, T } from '../../jit/wasm/encoder.js';
import { HAS_ERROR } from '../idt.js';
import { ACC, buildTranslate, PF_BASE } from './walk.js';

/** The TypeScript paths the module falls back to, and the runtime functions it uses. */
export interface UsmFastImports {
  rd: (c: number, a: bigint, size: number, rip: bigint) => bigint;
  wr: (c: number, a: bigint, size: number, v: bigint, rip: bigint) => void;
  /** runtime.ts get_flags (a Wasm function). */
  getFlags: unknown;
  /** runtime.ts chain (a Wasm function). */
  chain: unknown;
}

export interface UsmFastExports {
  rd: (c: number, a: bigint, size: number, rip: bigint) => bigint;
  wr: (c: number, a: bigint, size: number, v: bigint, rip: bigint) => void;
  raise: (c: number) => number;
  iret: (c: number) => number;
  syscall: (c: number, next: bigint) => number;
  resume: (c: number) => number;
  invlpg: (c: number, a: bigint) => number;
}

const ARITH = BigInt(ARITH_FLAGS);
/** What a fast path that gives up returns: the TypeScript implementation does the work. */
const BAIL = 1;

export function buildUsmFast(memory: WebAssembly.Memory, imp: UsmFastImports): UsmFastExports {
  // The module is the same for every machine (only its imports differ): compiled once per process,
  // so a fork or an exec instantiates it instead of encoding and compiling it again.
  compiled ??= new WebAssembly.Module(usmFastBytes());
  return finish(compiled, memory, imp);
}
let compiled: WebAssembly.Module | undefined;

function usmFastBytes(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder({ memoryPages: 1, memoryMax: 65536, tableMin: 1, noTable: true });
  const rdJs = m.importFunc('js', 'rd', [T.i32, T.i64, T.i32, T.i64], [T.i64]);
  const wrJs = m.importFunc('js', 'wr', [T.i32, T.i64, T.i32, T.i64, T.i64], []);
  const getFlags = m.importFunc('rt', 'get_flags', [T.i32], [T.i32]);
  const chain = m.importFunc('rt', 'chain', [T.i32, T.i32], [T.i32]);
  const translate = m.add(buildTranslate());

  // ---- helpers emitted inline -------------------------------------------------------------
  /** The access kind for the current CPL (bank 1 at CPL3). */
  const cplAcc = (f: Fn, cpu: number, write: boolean) => {
    f.get(cpu).i32_load(CPU.cpl).i32(3).i32_eq().if_(T.i32).i32(ACC.USER).else_().i32(0).end();
    if (write) f.i32(ACC.WRITE).i32_or();
  };
  /** Records a #PF (error code = PF_BASE - h) at instruction `rip` for address `a`, as recordException does. */
  const recordPf = (f: Fn, cpu: number, h: number, a: number, rip: number) => {
    f.get(cpu).i64(PF_BASE).get(h).i64_sub().i64(8).i64_shl().i64(Vector.PF).i64_or().i64_store(CPU.exitArg);
    f.get(cpu).get(a).i64_store(CPU.faultAddr);
    f.get(cpu).get(rip).i64_store(CPU.exitInsn);
    f.get(cpu).get(rip).i64_store(CPU.rip);
    f.get(cpu).i32(Pending.Exception).i32_store(CPU.fault);
  };
  /** Pushes whether an access of `size` at `a` stays in one page and the fast paths are on. */
  const fastAccess = (f: Fn, cpu: number, a: number, size: number) => {
    f.get(cpu).i32_load(CPU.usmFast);
    f.get(a).i32_wrap_i64().i32(0xfff).i32_and().get(size).i32_add().i32(PAGE_SIZE).i32_le_u().i32_and();
  };

  // ---- rd(cpu, a, size, rip) -> i64 -------------------------------------------------------
  {
    const f = new Fn([T.i32, T.i64, T.i32, T.i64], [T.i64]);
    const cpu = 0, a = 1, size = 2, rip = 3, h = f.local(T.i64);
    fastAccess(f, cpu, a, size);
    f.if_();
    f.get(cpu).get(a); cplAcc(f, cpu, false); f.call(translate).set(h);
    f.get(h).i64(0).i64_ge_s().if_();
    f.get(size).i32(1).i32_eq().if_().get(h).i32_wrap_i64().i64_load8_u(0).return_().end();
    f.get(size).i32(2).i32_eq().if_().get(h).i32_wrap_i64().i64_load16_u(0).return_().end();
    f.get(size).i32(4).i32_eq().if_().get(h).i32_wrap_i64().i64_load32_u(0).return_().end();
    f.get(h).i32_wrap_i64().i64_load(0).return_();
    f.end();
    f.get(h).i64(PF_BASE).i64_le_s().if_();
    recordPf(f, cpu, h, a, rip);
    f.i64(0).return_();
    f.end();
    f.end();
    f.get(cpu).get(a).get(size).get(rip).call(rdJs);
    m.export('rd', m.add(f));
  }

  // ---- wr(cpu, a, size, v, rip) --------------------------------------------------------------
  {
    const f = new Fn([T.i32, T.i64, T.i32, T.i64, T.i64], []);
    const cpu = 0, a = 1, size = 2, v = 3, rip = 4, h = f.local(T.i64);
    fastAccess(f, cpu, a, size);
    f.if_();
    f.get(cpu).get(a); cplAcc(f, cpu, true); f.call(translate).set(h);
    f.get(h).i64(0).i64_ge_s().if_();
    f.get(size).i32(1).i32_eq().if_().get(h).i32_wrap_i64().get(v).i64_store8(0).return_().end();
    f.get(size).i32(2).i32_eq().if_().get(h).i32_wrap_i64().get(v).i64_store16(0).return_().end();
    f.get(size).i32(4).i32_eq().if_().get(h).i32_wrap_i64().get(v).i64_store32(0).return_().end();
    f.get(h).i32_wrap_i64().get(v).i64_store(0).return_();
    f.end();
    f.get(h).i64(PF_BASE).i64_le_s().if_();
    recordPf(f, cpu, h, a, rip);
    f.return_();
    f.end();
    f.end();
    f.get(cpu).get(a).get(size).get(v).get(rip).call(wrJs);
    m.export('wr', m.add(f));
  }

  /** Pushes the full RFLAGS (lazy arithmetic flags materialised), as Usm.rflags(). */
  const rflags = (f: Fn, cpu: number) => {
    f.get(cpu).i64_load(CPU.rflags).i64(~ARITH).i64_and();
    f.get(cpu).call(getFlags).i64_extend_i32_u().i64_or().i64(2).i64_or();
  };
  /** Sets RFLAGS from i64 local `v`, arithmetic flags included, as Usm.setRflags(). */
  const setRflags = (f: Fn, cpu: number, v: number) => {
    f.get(v).i64(RFLAGS_VALID).i64_and().i64(2).i64_or().set(v);
    f.get(cpu).get(v).i64(~ARITH).i64_and().i64_store(CPU.rflags);
    f.get(cpu).get(v).i64(ARITH).i64_and().i64_store(CPU.ccRes);
    f.get(cpu).i32(0).i32_store(CPU.ccOp); // CC.EFLAGS: ccRes holds the flags
  };
  /** A supervisor access of `len` bytes at i64 local `va` within one page: host address into i32 `out`, or gives up. */
  const supAccess = (f: Fn, cpu: number, va: number, len: number, write: boolean, out: number, giveUp: () => void) => {
    const h = f.temp(T.i64);
    f.get(va).i32_wrap_i64().i32(0xfff).i32_and().i32(PAGE_SIZE - len).i32_gt_u().if_(); giveUp(); f.end();
    f.get(cpu).get(va).i32(write ? ACC.WRITE : 0).call(translate).tee(h).i64(0).i64_lt_s().if_(); giveUp(); f.end();
    f.get(h).i32_wrap_i64().set(out);
    f.free(T.i64, h);
  };

  // ---- resume(cpu) -> i32 -----------------------------------------------------------------
  const resume = (() => {
    const f = new Fn([T.i32], [T.i32]);
    const cpu = 0, rip = f.local(T.i64), key = f.local(T.i64), t = f.local(T.i32), budget = f.local(T.i32), tag = f.local(T.i64);
    f.block();
    // Single-stepping, or code above the lower half (a fetch fault): the dispatcher.
    f.get(cpu).i64_load(CPU.rflags).i64(F.TF).i64_and().i64(0).i64_ne().br_if(0);
    f.get(cpu).i64_load(CPU.rip).tee(rip).i64(47).i64_shr_u().i64(0).i64_ne().br_if(0);
    // The translation key's tag (jit/entry.ts tagFor): CPL, exact FP, CR0.TS.
    const cr0Ts = tagFor(Mode.Linux, false, false, true);
    f.get(cpu).i32_load(CPU.cpl).i32(3).i32_eq().if_(T.i64).i64(Mode.Cpl3).else_().i64(Mode.Cpl0).end();
    f.get(cpu).i32_load(CPU.fpPrecise).if_(T.i64).i64(tagFor(Mode.Linux, true, false)).else_().i64(0).end().i64_or();
    f.get(cpu).i64_load(CPU.cr0).i64(8).i64_and().i64(0).i64_ne().if_(T.i64).i64(cr0Ts).else_().i64(0).end().i64_or().set(tag);
    f.get(rip).get(tag).i64(MODE_STRIDE).i64_mul().i64_add().set(key);
    f.get(cpu).get(cpu).i32_load(CPU.budget).i32(1).i32_sub().tee(budget).i32_store(CPU.budget);
    const e = f.local(T.i32);
    emitJumpCacheFind(f, rip, key, t);
    f.tee(e).i32(0).i32_ne().get(budget).i32(0).i32_gt_s().i32_and().if_();
    f.get(cpu).get(e).return_call(chain);
    f.end();
    f.end();
    f.get(cpu).i32(0).i32_store(CPU.exitSlot);
    f.get(cpu).i32(0).i32_store(CPU.exitRegion);
    f.i32(Exit.Lookup);
    return m.add(f);
  })();
  m.export('resume', resume);

  // ---- deliver(cpu, vector, error, rip) -> i32: 0 done, else TypeScript delivers ------------------
  const deliver = (() => {
    const f = new Fn([T.i32, T.i32, T.i32, T.i64], [T.i32]);
    const cpu = 0, vector = 1, error = 2, rip = 3;
    const va = f.local(T.i64), g = f.local(T.i32), attr = f.local(T.i32), target = f.local(T.i64), sel = f.local(T.i32);
    const ist = f.local(T.i32), cpl = f.local(T.i32), oldRsp = f.local(T.i64), flags = f.local(T.i64), rsp = f.local(T.i64);
    const n = f.local(T.i32), top = f.local(T.i64), s = f.local(T.i32), nf = f.local(T.i64);
    const giveUp = () => { f.i32(BAIL).return_(); };
    f.get(cpu).i32_load(CPU.cpl).set(cpl);
    f.get(cpu).i32_load(CPU.idtrLimit).get(vector).i32(4).i32_shl().i32(15).i32_add().i32_lt_u().if_(); giveUp(); f.end();
    f.get(cpu).i64_load(CPU.idtrBase).get(vector).i64_extend_i32_u().i64(4).i64_shl().i64_add().set(va);
    supAccess(f, cpu, va, 16, false, g, giveUp);
    f.get(g).i32_load8_u(5).set(attr);
    // Present, and an interrupt (0xe) or trap (0xf) gate.
    f.get(attr).i32(0x80).i32_and().i32_eqz();
    f.get(attr).i32(0xf).i32_and().i32(0xe).i32_ne().get(attr).i32(0xf).i32_and().i32(0xf).i32_ne().i32_and().i32_or();
    f.if_(); giveUp(); f.end();
    f.get(g).i32_load16_u(0).get(g).i32_load16_u(6).i32(16).i32_shl().i32_or().i64_extend_i32_u();
    f.get(g).i64_load32_u(8).i64(32).i64_shl().i64_or().set(target);
    f.get(g).i32_load16_u(2).set(sel);
    f.get(g).i32_load8_u(4).i32(7).i32_and().set(ist);
    f.get(sel).i32(3).i32_and().get(cpl).i32_gt_u().if_(); giveUp(); f.end();
    f.get(cpu).i64_load(CPU.gpr + 4 * 8).tee(oldRsp).set(rsp);
    rflags(f, cpu); f.set(flags);
    // The stack: IST, or RSP0 on a privilege change.
    f.get(ist).if_();
    f.get(cpu).i64_load(CPU.tssBase).i64(0x24 - 8).i64_add().get(ist).i64_extend_i32_u().i64(3).i64_shl().i64_add().set(va);
    supAccess(f, cpu, va, 8, false, s, giveUp);
    f.get(s).i64_load(0).set(rsp);
    f.else_();
    f.get(sel).i32(3).i32_and().get(cpl).i32_lt_u().if_();
    f.get(cpu).i64_load(CPU.tssBase).i64(4).i64_add().set(va);
    supAccess(f, cpu, va, 8, false, s, giveUp);
    f.get(s).i64_load(0).set(rsp);
    f.end();
    f.end();
    f.get(rsp).i64(~0xfn).i64_and().set(rsp);
    f.get(vector).i32(31).i32_le_u().i32(HAS_ERROR).get(vector).i32_shr_u().i32(1).i32_and().i32_and()
      .if_(T.i32).i32(48).else_().i32(40).end().set(n);
    f.get(rsp).get(n).i64_extend_i32_u().i64_sub().set(top);
    // (The stack page is translated last: nothing is written before every check passed.)
    f.get(top).i32_wrap_i64().i32(0xfff).i32_and().get(n).i32_add().i32(PAGE_SIZE).i32_gt_u().if_(); giveUp(); f.end();
    {
      const h = f.temp(T.i64);
      f.get(cpu).get(top).i32(ACC.WRITE).call(translate).tee(h).i64(0).i64_lt_s().if_(); giveUp(); f.end();
      f.get(h).i32_wrap_i64().get(n).i32_add().i32(40).i32_sub().set(s); // s = where rip goes
      f.free(T.i64, h);
    }
    // From the lowest address: [error] RIP CS RFLAGS RSP SS (selectors and error code zero-extended).
    f.get(n).i32(48).i32_eq().if_().get(s).i32(8).i32_sub().get(error).i64_extend_i32_u().i64_store(0).end();
    f.get(s).get(rip).i64_store(0);
    f.get(s).get(cpu).i64_load32_u(CPU.cs).i64_store(8);
    f.get(s).get(flags).i64_store(16);
    f.get(s).get(oldRsp).i64_store(24);
    f.get(s).get(cpu).i64_load32_u(CPU.ss).i64_store(32);
    f.get(vector).i32(Vector.PF).i32_eq().if_().get(cpu).get(cpu).i64_load(CPU.faultAddr).i64_store(CPU.cr2).end();
    f.get(cpu).get(top).i64_store(CPU.gpr + 4 * 8);
    // TF NT RF VM cleared; IF too through an interrupt gate. The arithmetic flags stay as they are.
    f.get(flags).i64(~BigInt(F.TF | F.NT | F.RF | F.VM)).i64_and().set(nf);
    f.get(attr).i32(0xf).i32_and().i32(0xe).i32_eq().if_().get(nf).i64(~BigInt(F.IF)).i64_and().set(nf).end();
    f.get(cpu).get(nf).i64(RFLAGS_VALID).i64_and().i64(2).i64_or().i64(~ARITH).i64_and().i64_store(CPU.rflags);
    f.get(cpu).get(sel).i32(~3).i32_and().i32_store(CPU.cs);
    // A privilege change loads a null SS, as 64-bit mode does.
    f.get(sel).i32(3).i32_and().get(cpl).i32_ne().if_().get(cpu).i32(0).i32_store(CPU.ss).end();
    f.get(cpu).get(target).i64_store(CPU.rip);
    f.get(cpu).i32(0).i32_store(CPU.cpl);
    f.i32(0);
    return m.add(f);
  })();

  // ---- raise(cpu) -> i32: the exit tail of a region leaving with an exception ------------------
  {
    const f = new Fn([T.i32], [T.i32]);
    const cpu = 0, arg = f.local(T.i64), vector = f.local(T.i32);
    f.block();
    f.get(cpu).i32_load(CPU.usmFast).i32_eqz().br_if(0);
    f.get(cpu).i32_load(CPU.fault).i32(Pending.PhysAbort).i32_eq().br_if(0);
    // Under TF/RF the dispatcher's step and RF bookkeeping must see the exception.
    f.get(cpu).i64_load(CPU.rflags).i64(F.TF | F.RF).i64_and().i64(0).i64_ne().br_if(0);
    f.get(cpu).i64_load(CPU.exitArg).tee(arg).i32_wrap_i64().i32(0xff).i32_and().tee(vector);
    // Faults only (not #DB with its DR6, not #DF): the rest is TypeScript's.
    f.i32(32).i32_ge_u().get(vector).i32(Vector.DB).i32_eq().i32_or().get(vector).i32(Vector.DF).i32_eq().i32_or().br_if(0);
    f.get(cpu).get(vector).get(arg).i64(8).i64_shr_u().i32_wrap_i64().get(cpu).i64_load(CPU.exitInsn).call(deliver).br_if(0);
    f.get(cpu).i32(Pending.None).i32_store(CPU.fault);
    f.get(cpu).return_call(resume);
    f.end();
    f.i32(Exit.Exception);
    m.export('raise', m.add(f));
  }

  // ---- iret(cpu) -> i32: iretq at CPL0; 0 when done (then resume), else TypeScript runs it -------
  {
    const f = new Fn([T.i32], [T.i32]);
    const cpu = 0, rsp = f.local(T.i64), h = f.local(T.i32), cs = f.local(T.i32), v = f.local(T.i64), ncpl = f.local(T.i32);
    const giveUp = () => { f.i32(BAIL).return_(); };
    f.get(cpu).i32_load(CPU.usmFast).i32_eqz().if_(); giveUp(); f.end();
    f.get(cpu).i64_load(CPU.gpr + 4 * 8).set(rsp);
    supAccess(f, cpu, rsp, 40, false, h, giveUp);
    f.get(h).i32_load16_u(8).tee(cs).i32(3).i32_and().set(ncpl);
    // #GP cases (a lower CPL, CPL 1-2, a null selector) and TF/RF: TypeScript.
    f.get(ncpl).get(cpu).i32_load(CPU.cpl).i32_lt_u();
    f.get(ncpl).i32(1).i32_eq().i32_or().get(ncpl).i32(2).i32_eq().i32_or();
    f.get(cs).i32(~3).i32_and().i32_eqz().i32_or();
    f.get(h).i64_load(16).i64(F.TF | F.RF).i64_and().i64(0).i64_ne().i32_or();
    f.if_(); giveUp(); f.end();
    f.get(cpu).get(h).i64_load(0).i64_store(CPU.rip);
    f.get(cpu).get(cs).i32_store(CPU.cs);
    f.get(cpu).get(h).i32_load16_u(32).i32_store(CPU.ss);
    f.get(cpu).get(h).i64_load(24).i64_store(CPU.gpr + 4 * 8);
    // At CPL0 every flag may change (iretq runs only at CPL0 here).
    f.get(h).i64_load(16).set(v);
    setRflags(f, cpu, v);
    f.get(cpu).get(ncpl).i32_store(CPU.cpl);
    f.i32(0);
    m.export('iret', m.add(f));
  }

  // ---- syscall(cpu, next) -> i32: syscall at CPL3, the transfer to LSTAR -------------------------
  {
    const f = new Fn([T.i32, T.i64], [T.i32]);
    const cpu = 0, next = 1, fl = f.local(T.i64), nf = f.local(T.i64), cs = f.local(T.i32);
    f.get(cpu).i32_load(CPU.usmFast).i32_eqz();
    f.get(cpu).i64_load(CPU.efer).i64(1).i64_and().i64_eqz().i32_or(); // EFER.SCE clear: #UD
    f.if_().i32(BAIL).return_().end();
    rflags(f, cpu); f.set(fl);
    f.get(cpu).get(next).i64_store(CPU.gpr + 1 * 8);
    f.get(cpu).get(fl).i64_store(CPU.gpr + 11 * 8);
    f.get(fl).get(cpu).i64_load(CPU.sfmask).i64(-1).i64_xor().i64_and().i64(~BigInt(F.RF)).i64_and().set(nf);
    setRflags(f, cpu, nf);
    f.get(cpu).i64_load(CPU.star).i64(32).i64_shr_u().i32_wrap_i64().i32(0xfffc).i32_and().set(cs);
    f.get(cpu).get(cs).i32_store(CPU.cs);
    f.get(cpu).get(cs).i32(8).i32_add().i32_store(CPU.ss);
    f.get(cpu).i32(0).i32_store(CPU.cpl);
    f.get(cpu).get(cpu).i64_load(CPU.lstar).i64_store(CPU.rip);
    f.i32(0);
    m.export('syscall', m.add(f));
  }
  // ---- invlpg(cpu, addr) -> i32: 0 when done, else TypeScript runs it -----------------------------
  {
    const f = new Fn([T.i32, T.i64], [T.i32]);
    const cpu = 0, va = 1, page = f.local(T.i64), e = f.local(T.i32), vpn = f.local(T.i32);
    f.get(cpu).i32_load(CPU.usmFast).i32_eqz();
    // Entries set aside for other PCIDs must lose the page too (paging/tlb.ts flushPage).
    f.get(cpu).i32_load(CPU.pcidSaved).i32_or();
    // A page translated code may come from (jit/code-pages.ts): its translations may have to go.
    f.get(va).i64(47).i64_shr_u().i64_eqz();
    f.get(va).i64(12).i64_shr_u().i32_wrap_i64().i32((1 << CODE_FILTER_BITS) - 1).i32_and().tee(vpn)
      .i32(3).i32_shr_u().i32_load8_u(CODE_FILTER_BASE).get(vpn).i32(7).i32_and().i32_shr_u().i32(1).i32_and().i32_and();
    f.i32_or().if_().i32(BAIL).return_().end();
    f.get(va).i64(~0xfffn).i64_and().set(page);
    for (let bank = 0; bank < 2; bank++) {
      f.get(cpu).i32(CPU.tlb + bank * TLB_BANK_SIZE).i32_add();
      f.get(va).i64(12).i64_shr_u().i32_wrap_i64().i32(TLB_ENTRIES - 1).i32_and().i32(TLB_ENTRY_SHIFT).i32_shl().i32_add().set(e);
      // Only if the slot caches this page (another page may share it).
      f.get(e).i64_load(TLB.readTag).get(page).i64_eq().get(e).i64_load(TLB.writeTag).get(page).i64_eq().i32_or().if_();
      f.get(e).i64(-1).i64_store(TLB.readTag);
      f.get(e).i64(-1).i64_store(TLB.writeTag);
      f.end();
    }
    f.i32(0);
    m.export('invlpg', m.add(f));
  }
  return m.emit();
}

function finish(module: WebAssembly.Module, memory: WebAssembly.Memory, imp: UsmFastImports): UsmFastExports {
  const inst = new WebAssembly.Instance(module, {
    env: { mem: memory },
    js: { rd: imp.rd, wr: imp.wr },
    rt: { get_flags: imp.getFlags, chain: imp.chain },
  } as unknown as WebAssembly.Imports);
  return inst.exports as unknown as UsmFastExports;
}
