/**
 * Privileged instructions at CPL0 in USM mode, and the instructions that change privilege
 * (syscall, sysretq, iretq, int n). Each is a small handler over the session (vmx/usm.ts); the JIT
 * calls them through JsEnv.privileged (jit/isa/system.ts). At CPL3 the translator raises #GP
 * itself, so handlers here run at CPL0 unless noted.
 *
 * A handler returns -1 to go on with the next instruction, or an Exit code: `Exit.Lookup` after
 * changing rip (control transfer or a change that invalidates translations), `Exit.Exception`
 * with the exit fields set (see fault()).
 */
import type { Insn, Operand } from '../decoder/ir.js';
import { CPU, PAGE_SIZE } from '../core/layout.js';
import { canonical, CR4_PCIDE, CR4_PGE } from '../paging/pagewalk.js';
import { Exit, Vector } from '../core/exits.js';
import { deliver, iret, SoftIntDenied } from './idt.js';
import { CR0, CR0_AT_ENTRY, CR0_FIXED, CR0_WRITABLE, CR4, CR4_WRITABLE, EFER, MSR } from './usm-state.js';
import { RF } from '../core/rflags.js';
import type { Usm } from './usm.js';

type Handler = (u: Usm, i: Insn, ea: bigint) => number;

/** Leaves the region with exception `vector` (error code `err`) at instruction `i`. */
export function fault(u: Usm, i: Insn, vector: Vector, err = 0): number {
  const cpu = u.cpu;
  cpu.rip = BigInt(i.addr);
  cpu.setU64(CPU.exitInsn, BigInt(i.addr));
  cpu.setU64(CPU.exitArg, BigInt(vector) | (BigInt(err) << 8n));
  return Exit.Exception;
}

/** Continues at `rip` through the dispatcher (translation mode or mappings may have changed). */
function jump(u: Usm, rip: bigint): number {
  u.cpu.rip = rip;
  u.cpu.setU32(CPU.exitSlot, 0);
  u.cpu.setU32(CPU.exitRegion, 0); // not an indirect branch of the region (no region growth)
  return Exit.Lookup;
}

const next = (i: Insn): bigint => BigInt(i.addr + i.len);
const gp = (u: Usm, i: Insn) => fault(u, i, Vector.GP);

function regOf(op: Operand): number {
  if (op.kind !== 'reg' || op.file !== 'gpr') throw new Error(`expected a general register, got ${op.kind}`);
  return op.n;
}

/** Reads a register or memory operand of `size` bytes (memory at `ea`). */
function readOp(u: Usm, op: Operand, ea: bigint): bigint {
  if (op.kind === 'mem') {
    const b = u.mmu.readV(ea, op.size);
    let v = 0n;
    for (let k = op.size - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]);
    return v;
  }
  return BigInt.asUintN(op.size * 8, u.cpu.get(regOf(op)));
}

/** Writes a register (zero-extending 32-bit destinations like any x86 write) or memory operand. */
function writeOp(u: Usm, op: Operand, ea: bigint, v: bigint): void {
  if (op.kind === 'mem') {
    const b = new Uint8Array(op.size);
    for (let k = 0; k < op.size; k++) b[k] = Number((v >> BigInt(8 * k)) & 0xffn);
    u.mmu.writeV(ea, b);
    return;
  }
  const n = regOf(op);
  if (op.size >= 4) u.cpu.set(n, BigInt.asUintN(op.size * 8, v));
  else u.cpu.set(n, (u.cpu.get(n) & ~0xffffn) | (v & 0xffffn));
}

// ---- control registers --------------------------------------------------------------------

function writeCr3(u: Usm, v: bigint): void {
  const st = u.st;
  const keep = (v & (1n << 63n)) !== 0n && (st.cr4 & CR4_PCIDE) !== 0n;
  const value = v & ~(1n << 63n);
  const oldPcid = st.pcid;
  const rootChanged = (value & ~0xfffn) !== (st.cr3 & ~0xfffn);
  st.cr3 = value;
  const newPcid = st.pcid;
  for (const t of u.host.tlbs) {
    if (st.cr4 & CR4_PCIDE) t.switchPcid(oldPcid, newPcid, keep);
    else t.flushNonGlobal();
  }
  // Code translations are named by virtual address: a new root may map them elsewhere.
  if (rootChanged) u.host.flushCode();
}

function writeCr(u: Usm, i: Insn, n: number, v: bigint): number {
  const st = u.st;
  switch (n) {
    case 0: {
      if ((v & (CR0.PG | CR0.PE)) !== (CR0.PG | CR0.PE) || v >> 32n) return gp(u, i);
      if ((v & CR0_FIXED) !== (CR0_AT_ENTRY & CR0_FIXED)) return gp(u, i); // MP EM AM: not implemented
      const nv = (st.cr0 & ~CR0_WRITABLE) | (v & CR0_WRITABLE);
      if ((nv ^ st.cr0) & CR0.WP) u.flushTlbs(); // cached write rights depend on WP
      st.cr0 = nv;
      break;
    }
    case 2: st.cr2 = v; break;
    case 3: writeCr3(u, v); break;
    case 4: {
      if (v & ~CR4_WRITABLE & ~(st.cr4)) return gp(u, i);
      const changed = v ^ st.cr4;
      if (changed & CR4_PCIDE && v & CR4_PCIDE && st.cr3 & 0xfffn) return gp(u, i);
      st.cr4 = (st.cr4 & ~CR4_WRITABLE) | (v & CR4_WRITABLE);
      // Toggling PGE or turning PCIDE off flushes everything, global entries included.
      if (changed & (CR4_PGE | CR4_PCIDE)) u.flushTlbs();
      break;
    }
    case 8: st.cr8 = v & 0xfn; break;
    default: return fault(u, i, Vector.UD);
  }
  // CR0.TS is a translation input (jit/entry.ts): the dispatcher picks the translations for it.
  return n === 0 || n === 3 || n === 4 ? jump(u, next(i)) : -1;
}

function readCr(u: Usm, i: Insn, n: number): bigint | undefined {
  const st = u.st;
  switch (n) {
    case 0: return st.cr0;
    case 2: return st.cr2;
    case 3: return st.cr3;
    case 4: return st.cr4;
    case 8: return st.cr8;
    default: return undefined;
  }
}

/**
 * The debug register DRn names: DR4/DR5 are aliases of DR6/DR7 unless CR4.DE is set, then they
 * are #UD (SDM 17.2.2); -1 for #UD.
 */
function drIndex(u: Usm, n: number): number {
  if (n > 7) return -1;
  if (n === 4 || n === 5) return u.st.cr4 & CR4.DE ? -1 : n + 2;
  return n;
}

/** mov to/from a control or debug register. */
function movSpecial(u: Usm, i: Insn): number {
  const [d, s] = i.ops;
  if (d.kind === 'reg' && (d.file === 'cr' || d.file === 'dr')) {
    const v = u.cpu.get(regOf(s));
    if (d.file === 'cr') return writeCr(u, i, d.n, v);
    const n = drIndex(u, d.n);
    if (n < 0) return fault(u, i, Vector.UD);
    if ((n === 6 || n === 7) && v >> 32n) return gp(u, i);
    u.st.dr[n] = n === 6 ? (v | 0xffff_0ff0n) & 0xffff_efffn : n === 7 ? (v | 0x400n) & ~0xd000n : v;
    if (n === 6) return -1;
    u.debugChanged();
    return jump(u, next(i));
  }
  if (s.kind !== 'reg') return fault(u, i, Vector.UD);
  let v: bigint | undefined;
  if (s.file === 'cr') v = readCr(u, i, s.n);
  else if (drIndex(u, s.n) >= 0) v = u.st.dr[drIndex(u, s.n)];
  if (v === undefined) return fault(u, i, Vector.UD);
  u.cpu.set(regOf(d), v);
  return -1;
}

// ---- MSRs ---------------------------------------------------------------------------------

function rdmsr(u: Usm, i: Insn): number {
  const st = u.st, cpu = u.cpu;
  const n = Number(cpu.get(1) & 0xffff_ffffn);
  let v: bigint;
  switch (n) {
    case MSR.EFER: v = st.efer; break;
    case MSR.STAR: v = st.star; break;
    case MSR.LSTAR: v = st.lstar; break;
    case MSR.CSTAR: v = st.cstar; break;
    case MSR.SFMASK: v = st.sfmask; break;
    case MSR.FS_BASE: v = cpu.fsBase; break;
    case MSR.GS_BASE: v = cpu.gsBase; break;
    case MSR.KERNEL_GS_BASE: v = st.kernelGsBase; break;
    case MSR.TSC_AUX: v = st.tscAux; break;
    case MSR.TSC: v = u.host.rdtsc(); break;
    case MSR.APIC_BASE: v = 0xfee0_0000n | (1n << 11n) | (1n << 10n) | (1n << 8n); break; // enabled, x2APIC, BSP
    case MSR.X2APIC_ID: v = 0n; break;
    case MSR.X2APIC_VERSION: v = 0x0005_0014n; break;
    default: {
      const t = u.timer.rdmsr(n);
      if (t === undefined) return gp(u, i);
      v = t;
    }
  }
  cpu.set(0, v & 0xffff_ffffn);
  cpu.set(2, v >> 32n);
  return -1;
}

function wrmsr(u: Usm, i: Insn): number {
  const st = u.st, cpu = u.cpu;
  const n = Number(cpu.get(1) & 0xffff_ffffn);
  const v = ((cpu.get(2) & 0xffff_ffffn) << 32n) | (cpu.get(0) & 0xffff_ffffn);
  const addr = (): boolean => canonical(v);
  switch (n) {
    case MSR.EFER: {
      // LME/LMA stay set (long mode); NXE and SCE may change.
      if (v & ~(EFER.SCE | EFER.LME | EFER.LMA | EFER.NXE) || !(v & EFER.LME)) return gp(u, i);
      if ((v ^ st.efer) & EFER.NXE) u.flushTlbs();
      st.efer = v | EFER.LMA;
      return jump(u, next(i));
    }
    case MSR.STAR: st.star = v; break;
    case MSR.LSTAR: if (!addr()) return gp(u, i); st.lstar = v; break;
    case MSR.CSTAR: if (!addr()) return gp(u, i); st.cstar = v; break;
    case MSR.SFMASK: st.sfmask = v & 0xffff_ffffn; break;
    case MSR.FS_BASE: if (!addr()) return gp(u, i); cpu.fsBase = v; break;
    case MSR.GS_BASE: if (!addr()) return gp(u, i); cpu.gsBase = v; break;
    case MSR.KERNEL_GS_BASE: if (!addr()) return gp(u, i); st.kernelGsBase = v; break;
    case MSR.TSC_AUX: st.tscAux = v & 0xffff_ffffn; break;
    default:
      if (!u.timer.wrmsr(n, v)) return gp(u, i);
      u.host.pollSoon();
  }
  return -1;
}

// ---- descriptor tables ----------------------------------------------------------------------

function loadTable(which: 'gdtr' | 'idtr') {
  return (u: Usm, i: Insn, ea: bigint): number => {
    const b = new DataView(u.mmu.readV(ea, 10).buffer);
    const base = b.getBigUint64(2, true);
    if (!canonical(base)) return gp(u, i);
    u.st[which] = { limit: b.getUint16(0, true), base };
    return -1;
  };
}

function storeTable(which: 'gdtr' | 'idtr') {
  return (u: Usm, _i: Insn, ea: bigint): number => {
    const b = new DataView(new ArrayBuffer(10));
    b.setUint16(0, u.st[which].limit, true);
    b.setBigUint64(2, u.st[which].base, true);
    u.mmu.writeV(ea, new Uint8Array(b.buffer));
    return -1;
  };
}

/** ltr: the TSS descriptor (16 bytes in the GDT) gives the TSS base; it is marked busy. */
function ltr(u: Usm, i: Insn, ea: bigint): number {
  const sel = Number(readOp(u, i.ops[0], ea) & 0xffffn);
  const st = u.st;
  const off = sel & ~7;
  if (off === 0 || sel & 4 || off + 15 > st.gdtr.limit) return fault(u, i, Vector.GP, sel & ~3);
  const at = st.gdtr.base + BigInt(off);
  const d = new DataView(u.mmu.readV(at, 16, false).buffer);
  const type = d.getUint8(5) & 0x1f;
  if (type !== 0x09 || !(d.getUint8(5) & 0x80)) return fault(u, i, Vector.GP, sel & ~3);
  st.tssBase = BigInt(d.getUint16(2, true)) | (BigInt(d.getUint8(4)) << 16n) | (BigInt(d.getUint8(7)) << 24n) | (BigInt(d.getUint32(8, true)) << 32n);
  st.tr = sel;
  u.mmu.writeV(at + 5n, new Uint8Array([d.getUint8(5) | 2]), false); // busy
  return -1;
}

// ---- TLB ----------------------------------------------------------------------------------

function invlpg(u: Usm, i: Insn, ea: bigint): number {
  const page = BigInt.asUintN(64, ea) & ~0xfffn;
  for (const t of u.host.tlbs) t.flushPage(page);
  // The page may have held code under its old mapping.
  if (page < 1n << 47n && u.host.hasCodePage(Number(page) / PAGE_SIZE)) {
    u.host.invalidateCodePage(Number(page) / PAGE_SIZE);
    return jump(u, next(i));
  }
  return -1;
}

function invpcid(u: Usm, i: Insn, ea: bigint): number {
  const type = u.cpu.get(regOf(i.ops[0]));
  const desc = new DataView(u.mmu.readV(ea, 16).buffer);
  const pcid = Number(desc.getBigUint64(0, true) & 0xfffn);
  const addr = desc.getBigUint64(8, true);
  if (desc.getBigUint64(0, true) >> 12n || type > 3n) return gp(u, i);
  const tlbs = u.host.tlbs;
  switch (type) {
    case 0n: // one address of one PCID
      if (!canonical(addr)) return gp(u, i);
      if (pcid === u.st.pcid) for (const t of tlbs) t.flushPage(addr);
      else for (const t of tlbs) t.forgetPcid(pcid);
      break;
    case 1n: // one PCID, non-global
      if (pcid === u.st.pcid) for (const t of tlbs) t.flushNonGlobal();
      else for (const t of tlbs) t.forgetPcid(pcid);
      break;
    case 2n: u.flushTlbs(); break; // everything, globals included
    case 3n: for (const t of tlbs) t.flushAllPcids(); break; // all PCIDs, non-global
  }
  u.host.flushCode();
  return jump(u, next(i));
}

// ---- privilege transitions -------------------------------------------------------------------

/** syscall (CPL0 or CPL3): the architectural transfer to LSTAR. */
export function syscallInsn(u: Usm, i: Insn): number {
  const st = u.st, cpu = u.cpu;
  if (!(st.efer & EFER.SCE)) return fault(u, i, Vector.UD);
  const flags = u.rflags();
  cpu.set(1, next(i));
  cpu.set(11, flags);
  u.setRflags(flags & ~st.sfmask & ~RF.RF);
  const cs = Number((st.star >> 32n) & 0xfffcn);
  cpu.setU32(CPU.cs, cs);
  cpu.setU32(CPU.ss, cs + 8);
  u.setCpl(0);
  return jump(u, st.lstar);
}

function sysretq(u: Usm, i: Insn): number {
  const st = u.st, cpu = u.cpu;
  if (!(st.efer & EFER.SCE)) return fault(u, i, Vector.UD);
  const rip = cpu.get(1);
  if (!canonical(rip)) return gp(u, i);
  const base = Number((st.star >> 48n) & 0xffffn);
  cpu.setU32(CPU.cs, (base + 16) | 3);
  cpu.setU32(CPU.ss, (base + 8) | 3);
  u.setRflags((cpu.get(11) & 0x3c7fd7n) | 2n);
  u.setCpl(3);
  return jump(u, rip);
}

function iretq(u: Usm, i: Insn): number {
  return iret(u) ? jump(u, u.cpu.rip) : gp(u, i);
}

/** int n / int3 / into: a software interrupt through the IDT (at CPL0 or CPL3). */
export function softInt(u: Usm, i: Insn, vector: number): number {
  try {
    deliver(u, { vector, rip: next(i), soft: true, error: 0 });
  } catch (e) {
    if (e instanceof SoftIntDenied) return fault(u, i, Vector.GP, vector * 8 + 2);
    throw e;
  }
  return jump(u, u.cpu.rip);
}

function hlt(u: Usm, i: Insn): number {
  // Only an interrupt ends hlt (its frame returns after the hlt); with none that can come, the
  // guest would hang forever: #GP instead, so the supervisor can report it.
  u.cpu.rip = next(i);
  u.shadow = null;
  if (!u.halt()) return fault(u, i, Vector.GP);
  return jump(u, u.cpu.rip);
}

/** rdtsc/rdtscp: #GP(0) at CPL3 when CR4.TSD is set (SDM: RDTSC, RDTSCP). */
function rdtsc(u: Usm, i: Insn, withAux: boolean): number {
  if (u.st.cpl === 3 && u.st.cr4 & CR4.TSD) return gp(u, i);
  const t = u.host.rdtsc();
  u.cpu.set(0, t & 0xffff_ffffn);
  u.cpu.set(2, (t >> 32n) & 0xffff_ffffn);
  if (withAux) u.cpu.set(1, u.st.tscAux);
  return -1;
}

export const PRIVILEGED: Record<string, Handler> = {
  mov: (u, i) => movSpecial(u, i),
  rdmsr: (u, i) => rdmsr(u, i),
  wrmsr: (u, i) => wrmsr(u, i),
  lgdt: loadTable('gdtr'),
  lidt: loadTable('idtr'),
  sgdt: storeTable('gdtr'),
  sidt: storeTable('idtr'),
  ltr,
  str: (u, i, ea) => { writeOp(u, i.ops[0], ea, BigInt(u.st.tr)); return -1; },
  lldt: (u, i, ea) => (readOp(u, i.ops[0], ea) & 0xfffcn ? gp(u, i) : -1),
  sldt: (u, i, ea) => { writeOp(u, i.ops[0], ea, 0n); return -1; },
  invlpg,
  invpcid,
  swapgs: (u) => {
    const g = u.cpu.gsBase;
    u.cpu.gsBase = u.st.kernelGsBase;
    u.st.kernelGsBase = g;
    return -1;
  },
  cli: (u) => { u.cpu.setU64(CPU.rflags, u.cpu.u64(CPU.rflags) & ~RF.IF); return -1; },
  // sti: a pending interrupt is taken at the dispatcher's next look, after at least the next
  // instruction (the architectural one-instruction shadow).
  sti: (u, i) => {
    u.cpu.setU64(CPU.rflags, u.cpu.u64(CPU.rflags) | RF.IF);
    u.shadow = next(i);
    u.host.pollSoon();
    return -1;
  },
  hlt,
  wbinvd: () => -1,
  invd: () => -1,
  // Clearing TS changes the translation key (jit/entry.ts): continue through the dispatcher.
  clts: (u, i) => {
    if (!(u.st.cr0 & CR0.TS)) return -1;
    u.st.cr0 &= ~CR0.TS;
    return jump(u, next(i));
  },
  rdpmc: (u, i) => gp(u, i),
  iretq,
  sysretq,
  syscall: syscallInsn,
  vmcall: (u) => { u.vmcall(); return -1; },
  int: (u, i) => softInt(u, i, Number((i.ops[0] as { value: bigint }).value & 0xffn)),
  int3: (u, i) => softInt(u, i, Vector.BP),
  into: (u, i) => (u.getFlag(RF.OF) ? softInt(u, i, Vector.OF) : -1),
  rdtsc: (u, i) => rdtsc(u, i, false),
  rdtscp: (u, i) => rdtsc(u, i, true),
};
