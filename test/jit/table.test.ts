import { beforeAll, describe, expect, it } from 'vitest';
import { Decoder } from '../../src/decoder/capstone.js';
import type { Block, Insn } from '../../src/decoder/ir.js';
import { defOf, endsBlock, ISA, staticSuccessors } from '../../src/jit/isa/index.js';
import { flagsLiveAfter } from '../../src/jit/liveness.js';

const hex = (s: string) => Uint8Array.from(s.replace(/ /g, '').match(/../g)!.map((x) => parseInt(x, 16)));

describe('the instruction table', () => {
  let dec: Decoder;
  beforeAll(async () => { dec = await Decoder.create(); });
  const one = (s: string): Insn => dec.decode(hex(s), 0x1000, 1)[0];
  const block = (s: string): Block => {
    const insns = dec.decode(hex(s), 0x1000, 64);
    const last = insns[insns.length - 1];
    return { start: 0x1000, end: last.addr + last.len, insns, pages: [] };
  };

  it('block ends and static successors come from the branch kind', () => {
    expect(['eb10', 'e800000000', 'c3', '7410', 'e2fe', 'e3fe', '0f05', 'cd80', '0f0b', 'f4', '48cf', '0f01c1'].map((s) => endsBlock(one(s))))
      .toEqual(Array(12).fill(true));
    expect(['4801c8', 'f20f10c1', 'a5', 'dec1', '9b', '0f01f8'].some((s) => endsBlock(one(s)))).toBe(false);
    expect(staticSuccessors(block('4801c8 eb10'))).toEqual([0x1015]); // jmp
    expect(staticSuccessors(block('ffe0'))).toEqual([]); // jmp rax
    expect(staticSuccessors(block('e810000000'))).toEqual([0x1015, 0x1005]); // call: target, return
    expect(staticSuccessors(block('7410'))).toEqual([0x1002, 0x1012]); // jcc: next, target
    expect(staticSuccessors(block('0f05'))).toEqual([0x1002]); // syscall
    expect(staticSuccessors(block('c3'))).toEqual([]);
    expect(staticSuccessors(block('4801c8'))).toEqual([0x1003]); // cut by the size limit
  });

  it('privilege facts: the CPL0-only instructions', () => {
    const cpl0 = ['0f32', '0f30', '0f0116', '0f011e', '0f00d8', '0f00d0', '0f0138', '660f3882 00', '0f01f8',
      'fa', 'fb', 'f4', '0f09', '0f08', '0f06', '0f33', '480f07'];
    for (const s of cpl0) expect(defOf(one(s)), s).toMatchObject({ usm: true, cpl0: true });
    // Privilege-changing but legal at CPL3 (the handler decides), or only UMIP-protected.
    for (const s of ['48cf', 'cd80', 'cc', '0f05', '0f01f9', '0f0100']) expect(defOf(one(s)), s).toMatchObject({ usm: true, cpl0: false });
    expect(defOf(one('0f01c1'))).toMatchObject({ usm: true, cpl0: true, cpl3Fault: 6 }); // vmcall: #UD at CPL3
    expect(defOf(one('4801c8'))).toMatchObject({ usm: false, cpl0: false });
  });

  it('movsd/cmpsd: the string and SSE forms share an id and get different entries', () => {
    expect(one('a5').id).toBe(one('f20f10c1').id);
    expect(defOf(one('a5'))).not.toBe(defOf(one('f20f10c1')));
    expect(defOf(one('a7'))).not.toBe(defOf(one('f20fc2c108')));
    expect(defOf(one('f20f58c1'))?.precise).toBeDefined(); // addsd has its exact variant
    expect(defOf(one('f20fc2c101'))?.precise).toBeDefined(); // cmpltsd (SSE cmpsd) too
    expect(defOf(one('a7'))?.precise).toBeUndefined(); // string cmpsd does not
  });

  it('x87 is keyed by opcode and ModRM: fadd and faddp are different entries', () => {
    expect(one('d8c1').id).toBe(one('dec1').id);
    expect(defOf(one('d8c1'))).not.toBe(defOf(one('dec1')));
    expect(defOf(one('d9e8'))).toBeDefined(); // fld1
    expect(ISA.names.has('faddp')).toBe(true);
  });

  it('alignment: legacy SSE needs 16, the unaligned forms 1', () => {
    expect(defOf(one('0f2800'))?.align).toBe(16); // movaps
    expect(defOf(one('0f1000'))?.align).toBe(1); // movups
    expect(defOf(one('660f3a630000'))?.align).toBe(1); // pcmpistri
  });

  it('flag liveness from the entries', () => {
    // rol; add: the rotate's flags are dead (add writes all six).
    expect(flagsLiveAfter(block('48d1c0 4801c8'))).toEqual([false, true]);
    // rol; mov; movaps; add: mov and SSE moves pass liveness through.
    expect(flagsLiveAfter(block('48d1c0 4889c8 0f28c1 4801c8'))).toEqual([false, false, false, true]);
    // rol; adc: adc reads CF.
    expect(flagsLiveAfter(block('48d1c0 4811c8'))).toEqual([true, true]);
    // rol; inc: inc keeps CF (a partial writer keeps them live).
    expect(flagsLiveAfter(block('48d1c0 48ffc0'))).toEqual([true, true]);
    // rol; shl by 1 kills, shl by cl may not (a zero count).
    expect(flagsLiveAfter(block('48d1c0 48d1e0'))).toEqual([false, true]);
    expect(flagsLiveAfter(block('48d1c0 48d3e0'))).toEqual([true, true]);
  });
});
