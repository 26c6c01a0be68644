/**
 * Exception and interrupt delivery through the guest's IDT in USM mode (SDM vol. 3, 6.14: 64-bit
 * mode), and iretq. A fault while delivering becomes a double fault; a fault while delivering the
 * double fault ends the session (triple fault).
 */
import { CPU } from '../core/layout.js';
import { MemoryFault } from '../core/exception.js';
import { Vector } from '../core/exits.js';
import { RF } from '../core/rflags.js';
import { USM_RET, UsmLeave, type Usm } from './usm.js';

/** Vectors that push an error code (8, 10-14, 17, 21, 29, 30), as a bit mask. */
export const HAS_ERROR = (1 << 8) | (0x1f << 10) | (1 << 17) | (1 << 21) | (1 << 29) | (1 << 30);
const hasError = (v: number) => v < 32 && ((HAS_ERROR >>> v) & 1) === 1;

/** Why delivery of one vector failed (becomes #DF, or a triple fault). */
class DeliveryFault extends Error {}

/** int n through a gate whose DPL is below CPL: #GP with error code n*8+2, at the int instruction. */
export class SoftIntDenied extends Error {
  constructor(readonly vector: number) {
    super(`int ${vector} denied by the gate's DPL`);
  }
}

export interface Event {
  vector: number;
  /** Error code for the vectors that push one. */
  error?: number;
  /** The rip pushed: the faulting instruction (faults) or the next one (traps, int n). */
  rip: bigint;
  /** int n / int3 / into: checks the gate's DPL against CPL. */
  soft?: boolean;
  /** For #PF: the linear address (CR2). */
  cr2?: bigint;
}

/** Delivers `ev` (and a #DF if that fails, and ends the session if that fails too). */
export function deliver(u: Usm, ev: Event): void {
  try {
    deliverOnce(u, ev);
    return;
  } catch (e) {
    if (e instanceof UsmLeave || e instanceof SoftIntDenied) throw e;
    if (!(e instanceof DeliveryFault)) throw e;
    if (ev.vector === Vector.DF) {
      throw new UsmLeave(USM_RET.TRIPLE, ev.vector, ev.cr2 ?? 0n, ev.rip);
    }
  }
  try {
    deliverOnce(u, { vector: Vector.DF, error: 0, rip: ev.rip });
  } catch (e) {
    if (e instanceof DeliveryFault) throw new UsmLeave(USM_RET.TRIPLE, ev.vector, ev.cr2 ?? 0n, ev.rip);
    throw e;
  }
}

function deliverOnce(u: Usm, ev: Event): void {
  try {
    deliverFrame(u, ev);
  } catch (e) {
    if (!(e instanceof MemoryFault)) throw e;
    if (e.exception() === null) throw new UsmLeave(USM_RET.PHYS, 0, e.addr64, ev.rip);
    throw new DeliveryFault();
  }
}

/** The little-endian reads delivery makes of a gate or TSS field. */
interface SupData {
  getUint8(o: number): number;
  getUint16(o: number, le: true): number;
  getUint32(o: number, le: true): number;
  getBigUint64(o: number, le: true): bigint;
}

/** A window on host memory at an offset: supervisor data read without allocating a view. */
class HostWindow implements SupData {
  dv!: DataView;
  at = 0;
  getUint8(o: number): number { return this.dv.getUint8(this.at + o); }
  getUint16(o: number): number { return this.dv.getUint16(this.at + o, true); }
  getUint32(o: number): number { return this.dv.getUint32(this.at + o, true); }
  getBigUint64(o: number): bigint { return this.dv.getBigUint64(this.at + o, true); }
}
const supView = new HostWindow();

/** Reads `len` (8 or 16) bytes of supervisor data: straight from host memory when in one page. */
function readSup(u: Usm, va: bigint, len: number): SupData {
  const h = u.mmu.hostRange(va, len, false, false);
  if (h >= 0) {
    supView.dv = u.host.as.frames.dv;
    supView.at = h;
    return supView;
  }
  return new DataView(u.mmu.readV(va, len, false).buffer);
}

function deliverFrame(u: Usm, ev: Event): void {
  const st = u.st;
  const cpu = u.cpu;
  if (st.idtr.limit < ev.vector * 16 + 15) throw new DeliveryFault();
  const gate = readSup(u, st.idtr.base + BigInt(ev.vector * 16), 16);
  const attr = gate.getUint8(5);
  const type = attr & 0xf;
  const dpl = (attr >> 5) & 3;
  if (ev.soft && dpl < st.cpl) throw new SoftIntDenied(ev.vector);
  if ((attr & 0x80) === 0 || (type !== 0xe && type !== 0xf)) throw new DeliveryFault();
  const lo = (gate.getUint16(0, true) | (gate.getUint16(6, true) << 16)) >>> 0, hi = gate.getUint32(8, true);
  const target = hi === 0 ? BigInt(lo) : BigInt(lo) | (BigInt(hi) << 32n);
  const selector = gate.getUint16(2, true);
  const ist = gate.getUint8(4) & 7;
  const newCpl = selector & 3;
  if (newCpl > st.cpl) throw new DeliveryFault();

  const oldRsp = cpu.get(4);
  const flags = u.rflags();
  let rsp = oldRsp;
  if (ist) rsp = readSup(u, st.tssBase + 0x24n + BigInt((ist - 1) * 8), 8).getBigUint64(0, true);
  else if (newCpl < st.cpl) rsp = readSup(u, st.tssBase + 4n, 8).getBigUint64(0, true);
  rsp &= ~0xfn;
  // The frame from the top of the stack down: SS RSP RFLAGS CS RIP [error] (lowest).
  const err = hasError(ev.vector);
  const n = err ? 48 : 40;
  const top = rsp - BigInt(n);
  let h = u.mmu.hostRange(top, n, true, false);
  const buf = h >= 0 ? u.host.as.frames.dv : new DataView(new ArrayBuffer(n));
  const at = h >= 0 ? h : 0;
  let o = at + n;
  // (The 16-bit selectors and the error code as two 32-bit halves: no BigInt for them.)
  const put32 = (v: number) => { o -= 8; buf.setUint32(o, v, true); buf.setUint32(o + 4, 0, true); };
  put32(cpu.u32(CPU.ss));
  buf.setBigUint64((o -= 8), oldRsp, true);
  buf.setBigUint64((o -= 8), flags, true);
  put32(cpu.u32(CPU.cs));
  buf.setBigUint64((o -= 8), BigInt.asUintN(64, ev.rip), true);
  if (err) put32((ev.error ?? 0) >>> 0);
  if (h < 0) {
    u.mmu.writeV(top, new Uint8Array(buf.buffer), false);
    h = 0;
  }

  if (ev.vector === Vector.PF && ev.cr2 !== undefined) st.cr2 = ev.cr2;
  cpu.set(4, top);
  let nf = flags & ~(RF.TF | RF.NT | RF.RF | RF.VM);
  if (type === 0xe) nf &= ~RF.IF;
  u.setRflags(nf);
  cpu.setU32(CPU.cs, selector & ~3);
  // A privilege change loads a null SS (with the new RPL), as 64-bit mode does.
  if (newCpl !== st.cpl) cpu.setU32(CPU.ss, 0);
  cpu.rip = target;
  u.setCpl(0);
}

/** iretq at CPL0: pops RIP, CS, RFLAGS, RSP, SS. Returns false for a #GP. */
export function iret(u: Usm): boolean {
  const cpu = u.cpu;
  const rsp = cpu.get(4);
  const h = u.mmu.hostRange(rsp, 40, false);
  // The frame straight from host memory when it is in one page (no view allocated).
  const b = h >= 0 ? u.host.as.frames.dv : new DataView(u.mmu.readV(rsp, 40).buffer);
  const at = h >= 0 ? h : 0;
  const rip = b.getBigUint64(at, true);
  const cs = b.getUint16(at + 8, true);
  const flags = b.getBigUint64(at + 16, true);
  const newRsp = b.getBigUint64(at + 24, true);
  const ss = b.getUint16(at + 32, true);
  const cpl = cs & 3;
  if (cpl < u.st.cpl || (cpl !== 0 && cpl !== 3) || (cs & ~3) === 0) return false;
  cpu.rip = rip;
  cpu.setU32(CPU.cs, cs);
  cpu.setU32(CPU.ss, ss);
  cpu.set(4, newRsp);
  // At CPL0 every flag may change; at CPL3 (IOPL 0) IF and IOPL keep their values.
  const keep = RF.IF | RF.IOPL;
  u.setRflags(u.st.cpl === 0 ? flags : (flags & ~keep) | (u.rflags() & keep));
  u.setCpl(cpl);
  return true;
}
