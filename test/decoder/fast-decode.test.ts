import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Decoder } from '../../src/decoder/capstone.js';
import { fastDecode } from '../../src/decoder/fast-decode.js';
import type { Insn } from '../../src/decoder/ir.js';

// The fast decoder (src/decoder/fast-decode.ts) must give exactly the IR Capstone's detail gives:
// every instruction of real binaries' code, decoded both ways, and random bytes.

const SSE_BYTES = [0x1f, 0x1f, 0x90, 0x10, 0x11, 0x28, 0x29, 0x6f, 0x7f, 0xef, 0xeb, 0xdb, 0xdf, 0x74, 0x75, 0x76, 0x64, 0x65, 0x66, 0xfc, 0xfd,
  0xfe, 0xd4, 0xf8, 0xf9, 0xfa, 0xfb, 0xda, 0xde, 0x60, 0x61, 0x62, 0x6c, 0x70, 0xd7];

const fields = (i: Pick<Insn, 'len' | 'id' | 'op' | 'opcode' | 'modrm' | 'ops' | 'opsize' | 'rexW'> & Partial<Insn>) =>
  JSON.stringify({
    len: i.len, id: i.id, op: i.op, opcode: i.opcode, modrm: i.modrm, ops: i.ops,
    rep: i.rep ?? 0, lock: i.lock ?? false, opsize: i.opsize, rexW: i.rexW,
  }, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

/** The executable sections of an ELF file: [guest address, bytes]. */
function textSections(file: string): [number, Uint8Array][] {
  const elf = readFileSync(file);
  const shoff = Number(elf.readBigUInt64LE(0x28)), shentsize = elf.readUInt16LE(0x3a), shnum = elf.readUInt16LE(0x3c);
  const out: [number, Uint8Array][] = [];
  for (let k = 0; k < shnum; k++) {
    const o = shoff + k * shentsize;
    if (!(Number(elf.readBigUInt64LE(o + 8)) & 4)) continue; // SHF_EXECINSTR
    const addr = Number(elf.readBigUInt64LE(o + 16)), off = Number(elf.readBigUInt64LE(o + 24)), size = Number(elf.readBigUInt64LE(o + 32));
    out.push([addr, new Uint8Array(elf.buffer, elf.byteOffset + off, size)]);
  }
  return out;
}

/** One Capstone-only decoder for the file (loading Capstone again replaces the module the first reads). */
let only: Promise<Decoder> | undefined;
function capstoneOnly(): Promise<Decoder> {
  only ??= Decoder.create().then((d) => { d.fast = false; return d; });
  return only;
}

describe('fast decoder', () => {
  const binaries = ['/bin/busybox', '/lib/x86_64-linux-gnu/libc.so.6'];
  for (const file of binaries) {
    it(`decodes ${file}'s code as Capstone does`, async () => {
      expect(existsSync(file), `${file} is needed (CI installs busybox-static)`).toBe(true);
      const d = await capstoneOnly();
      let total = 0, fast = 0;
      const bad: string[] = [];
      for (const [addr, code] of textSections(file)) {
        // A linear sweep: data in the code gives odd but valid encodings too.
        for (let off = 0; off < code.length;) {
          const win = code.subarray(off, Math.min(code.length, off + 16));
          const [c] = d.decode(win, addr + off, 1);
          const f = fastDecode(win, 0, addr + off);
          if (!c) {
            if (f) bad.push(`${Buffer.from(win).toString('hex')}: Capstone rejects it`);
            off++;
            continue;
          }
          total++;
          if (f) {
            fast++;
            if (fields(f) !== fields(c) && bad.length < 10) bad.push(`${Buffer.from(win.subarray(0, c.len)).toString('hex')}:\n  ${fields(c)}\n  ${fields(f)}`);
          }
          off += c.len;
        }
      }
      expect(bad).toEqual([]);
      // Most of real code is the common forms (over 90% of busybox's instructions).
      expect(fast / total).toBeGreaterThan(0.85);
    }, 60_000);
  }

  it('decodes random bytes as Capstone does, or leaves them to it', async () => {
    const d = await capstoneOnly();
    let seed = 12345;
    const rnd = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed; };
    // Biased towards the forms the fast decoder knows, after REX prefixes as well.
    const firsts = [0x64, 0x65, 0x66, 0xf3, 0x66, 0x2e, 0x48, 0x4c, 0x49, 0x4d, 0x41, 0x40, 0x0f, 0x89, 0x8b, 0x83, 0x81, 0x80, 0xc7, 0xc6, 0xff, 0xf7, 0xf6,
      0xd1, 0xd0, 0xc1, 0x8d, 0x63, 0x69, 0x6b, 0xe8, 0xe9, 0x74, 0x85, 0x84, 0x87, 0xb8, 0x31, 0x01, 0x39, 0x3b, 0xfe, 0xc2, 0x68, 0x6a];
    let claimed = 0, sse = 0, seg = 0;
    const bad: string[] = [];
    for (let t = 0; t < 200_000; t++) {
      const len = 1 + (rnd() % 15);
      const b = new Uint8Array(len);
      for (let k = 0; k < len; k++) b[k] = rnd() & 0xff;
      if (rnd() & 1) b[0] = firsts[rnd() % firsts.length];
      if ((rnd() & 3) === 0 && len > 1 && (b[0] & 0xf0) === 0x40) b[1] = firsts[rnd() % firsts.length];
      // SSE forms and long nops: a mandatory prefix (and REX) or cs before 0F and a known second byte.
      if ((b[0] === 0x66 || b[0] === 0xf3 || b[0] === 0x0f || b[0] === 0x2e) && len > 2 && rnd() & 1) {
        let k = b[0] === 0x0f ? 0 : 1;
        if ((rnd() & 3) === 0 && k === 1 && len > 3) { b[1] = 0x40 | (rnd() & 15); k = 2; }
        b[k] = 0x0f;
        if (k + 1 < len) b[k + 1] = SSE_BYTES[rnd() % SSE_BYTES.length];
      }
      const addr = rnd() & 1 ? 0x401000 : 0x7fff0000 + (rnd() & 0xffff);
      const f = fastDecode(b, 0, addr);
      if (!f) continue;
      claimed++;
      if (f.ops.some((o) => o.kind === 'reg' && o.file === 'xmm')) sse++;
      if (f.ops.some((o) => o.kind === 'mem' && o.seg)) seg++;
      const [c] = d.decode(b, addr, 1);
      const want = c ? fields(c) : 'undecodable';
      if (want !== fields(f) && bad.length < 10) bad.push(`${Buffer.from(b).toString('hex')}:\n  ${want}\n  ${fields(f)}`);
    }
    expect(bad).toEqual([]);
    expect(claimed).toBeGreaterThan(50_000);
    expect(sse).toBeGreaterThan(1000);
    expect(seg).toBeGreaterThan(500);
  }, 60_000);

  it('a SIB byte without an index register gives no index (Capstone names it riz)', async () => {
    const d = await capstoneOnly();
    const [c] = d.decode(Uint8Array.from([0x8b, 0x04, 0x26]), 0x1000, 1); // mov eax, [rsi + riz]
    expect(c.ops[1]).toMatchObject({ kind: 'mem', base: 6, index: -1 });
  });
});
