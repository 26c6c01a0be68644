import { describe, expect, it } from 'vitest';
import binaryen from 'binaryen';
import { Fn, ModuleBuilder, T } from '../../src/jit/wasm/encoder.js';
import { CC, ccOp, emitAllFlags } from '../../src/jit/flags.js';

/**
 * The JIT writes Wasm bytes with its own encoder (Binaryen's JS API is too slow to build cold code
 * with). Binaryen is the independent check: it must read back and validate what the encoder
 * writes, and V8 must run it with the intended results.
 */

function check(bytes: Uint8Array): void {
  const m = binaryen.readBinary(bytes);
  m.setFeatures(binaryen.Features.All);
  expect(m.validate()).toBeTruthy();
  m.dispose();
}

describe('wasm encoder', () => {
  it('encodes LEB128 immediates at their edges', () => {
    const m = new ModuleBuilder({ memoryPages: 1, memoryMax: 65536, tableMin: 1, noTable: true });
    const values = [0n, 1n, -1n, 63n, 64n, -64n, -65n, 0x7fff_ffffn, -0x8000_0000n, 0x8000_0000n,
      (1n << 53n) + 1n, -(1n << 63n), (1n << 63n) - 1n, 0xffff_ffffn];
    values.forEach((v, k) => {
      const f = new Fn([], [T.i64]);
      if (k % 2) f.i64(v); else f.i64(Number(v) === Number(BigInt.asIntN(64, v)) && Number.isSafeInteger(Number(v)) ? Number(v) : v);
      m.export(`v${k}`, m.add(f));
    });
    const bytes = m.emit();
    check(bytes);
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
    values.forEach((v, k) => expect((inst.exports[`v${k}`] as () => bigint)()).toBe(BigInt.asIntN(64, v)));
  });

  it('encodes control flow, locals, SIMD and exception handling that validate', () => {
    const m = new ModuleBuilder({ memoryPages: 1, memoryMax: 65536, tableMin: 1, noTable: true });
    const f = new Fn([T.i32, T.i32], [T.i32]);
    const v = f.local(T.v128);
    const acc = f.local(T.i32);
    f.block();
    f.try_();
    f.loop();
    f.block().block();
    f.get(1).br_table([0, 1], 1);
    f.end();
    f.get(acc).i32(3).i32_add().set(acc);
    f.get(0).i32(1).i32_sub().tee(0).br_if(1); // continue the loop while n > 0
    f.br(3);
    f.end();
    f.get(acc).i32(5).i32_add().set(acc);
    f.i32(0).set(1);
    f.br(0);
    f.end();
    f.unreachable();
    f.catch_all();
    f.rethrow(0);
    f.end();
    f.end();
    f.i32(7).simd(17).set(v); // i32x4.splat
    f.get(acc).get(v).lane(27, 2).i32_add(); // i32x4.extract_lane 2
    m.export('run', m.add(f));
    const bytes = m.emit();
    check(bytes);
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
    // pc = 1: +5, then pc = 0 with n = 4: four +3 iterations until n reaches 0, then +7.
    expect((inst.exports.run as (n: number, pc: number) => number)(4, 1)).toBe(5 + 3 * 4 + 7);
  });

  it('materialises lazy flags like the hardware for SUB (spot values)', () => {
    const m = new ModuleBuilder({ memoryPages: 1, memoryMax: 65536, tableMin: 1, noTable: true });
    const f = new Fn([T.i64, T.i64, T.i64], [T.i32]);
    emitAllFlags(f, CC.SUB, 1, { a: 0, b: 1, r: 2 });
    m.export('flags', m.add(f));
    const bytes = m.emit();
    check(bytes);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: new WebAssembly.Memory({ initial: 1, maximum: 65536 }) } });
    const flags = inst.exports.flags as (a: bigint, b: bigint, r: bigint) => number;
    // cmp al, bl with al = 0x80, bl = 0x01: r = 0x7f, OF = 1, CF = 0, SF = 0, AF = 1, PF = 0 (0x7f has 7 bits)
    expect(flags(0x80n, 0x01n, 0x7fn)).toBe((1 << 11) | (1 << 4));
    // 0 - 1 = 0xff: CF, SF, AF, PF (8 bits set)
    expect(flags(0n, 1n, 0xffn)).toBe(1 | (1 << 7) | (1 << 4) | (1 << 2));
    expect(ccOp(CC.SUB, 1)).toBe(CC.SUB * 4);
  });
});
