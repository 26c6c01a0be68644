import { describe, expect, it } from 'vitest';
import { Decoder } from '../../src/decoder/capstone.js';
import { X86_INSN_NAMES } from '../../src/decoder/x86-ids.js';
import { Capstone, Const, loadCapstone } from 'capstone-wasm';

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((x) => parseInt(x, 16)));

describe('Capstone instruction ids', () => {
  it('the IR carries the id, opcode bytes and ModRM; compare pseudo-ops get their real id', async () => {
    const d = await Decoder.create();
    const one = (s: string) => d.decode(hex(s), 0x1000, 1)[0];
    const id = (n: string) => X86_INSN_NAMES.indexOf(n);
    expect(one('4801c8')).toMatchObject({ id: id('add'), op: 'add', opcode: [0x01, 0, 0, 0], modrm: 0xc8 });
    // Capstone numbers these CMPPD + predicate (cmpordps comes back as X86_INS_CMPXCHG16B).
    expect(one('0fc2c107')).toMatchObject({ id: id('cmpps'), op: 'cmpordps' });
    expect(one('660fc2c101')).toMatchObject({ id: id('cmppd'), op: 'cmpltpd' });
    expect(one('f30fc2c103')).toMatchObject({ id: id('cmpss'), op: 'cmpunordss' });
    expect(one('f20fc2c100')).toMatchObject({ id: id('cmpsd'), op: 'cmpeqsd' });
    // One id for the string and the SSE instruction (the table tells them apart by the 0F escape).
    expect(one('a5').id).toBe(one('f20f10c1').id);
    // x87: faddp comes back as fadd (the table's x87 sub-map keys on opcode and ModRM instead).
    expect(one('dec1')).toMatchObject({ id: id('fadd'), op: 'faddp', opcode: [0xde, 0, 0, 0], modrm: 0xc1 });
  });

  // Last: loading Capstone again replaces the module the Decoder above reads.
  it('x86-ids.ts matches the linked Capstone (rerun scripts/gen-x86-ids.mjs after an upgrade)', async () => {
    await loadCapstone({});
    const cs = new Capstone(Const.CS_ARCH_X86, Const.CS_MODE_64);
    for (let id = 1; id < X86_INSN_NAMES.length; id++) expect(cs.getInsnName(id)).toBe(X86_INSN_NAMES[id]);
    expect(cs.getInsnName(X86_INSN_NAMES.length)).toBeFalsy();
    // Spot checks against Capstone 5.0's x86.h (X86_INS_*).
    expect(X86_INSN_NAMES.indexOf('add')).toBe(8);
    expect(X86_INSN_NAMES.indexOf('cmppd')).toBe(106);
    expect(X86_INSN_NAMES.indexOf('cmpsd')).toBe(109);
    expect(X86_INSN_NAMES[X86_INSN_NAMES.length - 1]).toBe('xtest');
  });
});
