/**
 * x87/SSE state images: fnstenv fldenv (the 28-byte environment), fnsave frstor (108 bytes),
 * fxsave fxrstor and their 64-bit forms (512 bytes at the data area's start, which they cover:
 * these cases use no stack). Images to load are built from random states like the harness's own
 * (builder.ts x87Value): all exceptions masked, canonical register values; fxrstor's MXCSR keeps
 * the default control in the fast flavour.
 *
 * Bytes left out of the comparison, as the SDM and this CPU allow: the instruction and data
 * pointers and the opcode (FIP FCS FOP FDP FDS: this AMD CPU stores them only while an unmasked
 * exception is pending, usmjit always; see README, "x87 state"), the reserved bytes of the
 * fxsave image (the six after each 80-bit register, 416-511), and its MXCSR_MASK (the MXCSR bits
 * the CPU model supports: this AMD CPU adds bit 17, misaligned-exception mode, which usmjit's
 * GenuineIntel virtual CPU lacks).
 */
import { FCC, fnsaveImage, type Builder } from './builder.js';
import { add, type Form } from './forms.js';
import type { Mem } from './x86enc.js';

/** Excludes bytes [from, to) of the data area from the comparison. */
function unmask(b: Builder, from: number, to: number): void {
  for (let k = from; k < to; k++) b.memMask[k] = 0;
}

/** A memory operand for an image of `span` bytes at data-area offset `off` (no access size: Capstone reports none). */
function image(b: Builder, off: number, span: number): Mem {
  const m = b.mem(1, { off, span });
  m.size = 0;
  return m;
}

/** A random 28-byte environment (32-bit protected-mode format) for fldenv, from a random state. */
function envImage(b: Builder): Uint8Array {
  const st = b.x87Value();
  const full = fnsaveImage(st);
  const env = full.slice(0, 28);
  // Random pointers and opcode: ignored by what is compared.
  env.set(b.rng.bytes(16), 12);
  return env;
}

add({
  id: 'fnstenv m28 (d9 /6)', family: 'x87-state', isa: ['fnstenv'], seq: false,
  gen: (b, f) => {
    const off = b.rng.range(0, 256 - 28);
    const m = image(b, off, 28);
    unmask(b, off + 12, off + 28);
    b.emit({ opcode: [0xd9], reg: 6, rm: m }, { form: f.id, mn: 'fnstenv', ops: [m] });
  },
});
add({
  id: 'fldenv m28 (d9 /4)', family: 'x87-state', isa: ['fldenv'], seq: false,
  gen: (b, f) => {
    const off = b.rng.range(0, 256 - 28);
    const m = image(b, off, 28);
    b.data.set(envImage(b), off);
    b.emit({ opcode: [0xd9], reg: 4, rm: m }, { form: f.id, mn: 'fldenv', ops: [m], fpWrites: FCC });
  },
});
add({
  id: 'fnsave m108 (dd /6)', family: 'x87-state', isa: ['fnsave'], seq: false,
  gen: (b, f) => {
    const off = b.rng.range(0, 256 - 108);
    const m = image(b, off, 108);
    unmask(b, off + 12, off + 28);
    b.emit({ opcode: [0xdd], reg: 6, rm: m }, { form: f.id, mn: 'fnsave', ops: [m], fpWrites: FCC });
  },
});
add({
  id: 'frstor m108 (dd /4)', family: 'x87-state', isa: ['frstor'], seq: false,
  gen: (b, f) => {
    const off = b.rng.range(0, 256 - 108);
    const m = image(b, off, 108);
    const img = fnsaveImage(b.x87Value());
    img.set(b.rng.bytes(16), 12);
    b.data.set(img.subarray(0, 108), off);
    b.emit({ opcode: [0xdd], reg: 4, rm: m }, { form: f.id, mn: 'frstor', ops: [m], fpWrites: FCC });
  },
});

for (const w64 of [false, true]) {
  const sfx = w64 ? '64' : '';
  add({
    id: `fxsave${sfx} m512 (${w64 ? 'rex.w ' : ''}0f ae /0)`, family: 'x87-state', isa: [`fxsave${sfx}`], seq: false,
    gen: (b: Builder, f: Form) => {
      const m = image(b, 0, 512);
      unmask(b, 6, 24);
      unmask(b, 28, 32);
      for (let i = 0; i < 8; i++) unmask(b, 32 + 16 * i + 10, 32 + 16 * i + 16);
      unmask(b, 416, 512);
      b.emit({ rexW: w64, opcode: [0x0f, 0xae], reg: 0, rm: m }, { form: f.id, mn: `fxsave${sfx}`, ops: [m] });
    },
  });
  add({
    id: `fxrstor${sfx} m512 (${w64 ? 'rex.w ' : ''}0f ae /1)`, family: 'x87-state', isa: [`fxrstor${sfx}`], seq: false,
    gen: (b: Builder, f: Form) => {
      const m = image(b, 0, 512);
      const r = b.rng;
      const st = b.x87Value();
      const img = new Uint8Array(512);
      img.set(r.bytes(512));
      const dv = new DataView(img.buffer);
      dv.setUint16(0, st.cw, true);
      dv.setUint16(2, (st.sw & ~0xb880) | (st.top << 11), true);
      img[4] = st.tag;
      img[5] = 0;
      const mxcsr = b.flavour === 'fast'
        ? 0x1f80 | r.int(64)
        : 0x1f80 | r.int(64) | (r.int(4) << 13) | (r.chance(0.3) ? 0x40 : 0) | (r.chance(0.3) ? 0x8000 : 0);
      dv.setUint32(24, mxcsr, true);
      for (let i = 0; i < 8; i++) {
        const v = st.regs[(st.top + i) & 7];
        dv.setBigUint64(32 + 16 * i, v.m, true);
        dv.setUint16(32 + 16 * i + 8, v.se, true);
      }
      b.data.set(img, 0);
      b.emit({ rexW: w64, opcode: [0x0f, 0xae], reg: 1, rm: m }, { form: f.id, mn: `fxrstor${sfx}`, ops: [m], fpWrites: FCC });
    },
  });
}
