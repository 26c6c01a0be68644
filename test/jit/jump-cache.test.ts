/**
 * The jump cache is filled by TypeScript (entry.ts fillJumpCacheEntry, for code-cache.ts) and probed by emitted Wasm
 * (jit/entry.ts emitJumpCacheFind): both must agree on where a key lives, and two hot targets
 * whose hashes collide must both stay in it (the 2-way sets).
 */
import { describe, expect, it } from 'vitest';
import { JC_BASE, JC_ENTRIES, JC_ENTRY_SIZE, MODE_STRIDE } from '../../src/core/layout.js';
import { codeKey, emitJumpCacheFind, fillJumpCacheEntry, jumpCacheOffset, jumpCacheSet } from '../../src/jit/entry.js';
import { Fn, ModuleBuilder, T } from '../../src/jit/wasm/encoder.js';

const memory = new WebAssembly.Memory({ initial: 2, maximum: 2 });
const dv = new DataView(memory.buffer);

/** find(rip, key) -> the entry's table index, 0 for a miss: the emitted probe. */
function emittedFind(): (rip: bigint, key: bigint) => number {
  const m = new ModuleBuilder({ memoryPages: 2, memoryMax: 2, tableMin: 1, noTable: true });
  const f = new Fn([T.i64, T.i64], [T.i32]);
  emitJumpCacheFind(f, 0, 1, f.local(T.i32));
  m.export('find', m.add(f));
  const inst = new WebAssembly.Instance(new WebAssembly.Module(m.emit()), { env: { mem: memory } });
  return inst.exports.find as (rip: bigint, key: bigint) => number;
}

const fill = (key: number, index: number): void => fillJumpCacheEntry(dv, key, index);

function clear(): void {
  for (let k = 0; k < JC_ENTRIES; k++) {
    dv.setBigInt64(JC_BASE + k * JC_ENTRY_SIZE, -1n, true);
    dv.setInt32(JC_BASE + k * JC_ENTRY_SIZE + 8, 0, true);
  }
}

describe('jump cache', () => {
  const find = emittedFind();

  it('keeps both of two colliding hot targets (busybox awk\'s two return sites)', () => {
    clear();
    const a = 0x566106, b = 0x568108;
    expect(jumpCacheOffset(a)).toBe(jumpCacheOffset(b)); // they collide in the hash
    fill(codeKey(a, 0), 0x1234);
    fill(codeKey(b, 0), 0x5678);
    expect(find(BigInt(a), BigInt(a))).toBe(0x1234);
    expect(find(BigInt(b), BigInt(b))).toBe(0x5678);
    // A third one evicts the least recently filled.
    const c = [...Array(1 << 16).keys()].map((k) => 0x400000 + k).find((x) => x !== a && x !== b && jumpCacheSet(x) === jumpCacheSet(a))!;
    fill(codeKey(c, 0), 0x9abc);
    expect(find(BigInt(c), BigInt(c))).toBe(0x9abc);
    expect(find(BigInt(b), BigInt(b))).toBe(0x5678);
    expect(find(BigInt(a), BigInt(a))).toBe(0);
  });

  it('finds what TypeScript filled, under its translation key, and nothing else', () => {
    clear();
    let s = 0x2545f4914f6cdd1dn;
    const keys: number[] = [];
    for (let k = 0; k < 3000; k++) {
      s ^= s << 13n; s &= (1n << 64n) - 1n; s ^= s >> 7n; s ^= s << 17n; s &= (1n << 64n) - 1n;
      const rip = Number(s % (1n << 47n)), tag = Number(s >> 60n) & 7;
      keys.push(codeKey(rip, tag));
    }
    keys.forEach((key, k) => fill(key, k + 1));
    let hits = 0;
    keys.forEach((key, k) => {
      const rip = key % MODE_STRIDE;
      const got = find(BigInt(rip), BigInt(key));
      // Filled later into the same set twice over: evicted; else found with its own index.
      if (got !== 0) { expect(got, `key ${key.toString(16)}`).toBe(k + 1); hits++; }
      // Another translation key of the same rip is never a hit.
      expect(find(BigInt(rip), BigInt(key) + BigInt(MODE_STRIDE) * 8n)).toBe(0);
    });
    expect(hits).toBeGreaterThan(2000);
  });
});
