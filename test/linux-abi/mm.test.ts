import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MMAP_TOP, PROT_EXEC, PROT_READ, PROT_WRITE } from '../../src/paging/address-space.js';
import { BUF, HEAP, harness } from './harness.js';
import { mappedFiles } from '../../src/linux-abi/mapped-files.js';

const MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_FIXED_NOREPLACE = 0x100000;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const RW = PROT_READ | PROT_WRITE;
const ENOMEM = -12n, EINVAL = -22n, EBADF = -9n, EEXIST = -17n, EACCES = -13n, EFAULT = -14n, ENODEV = -19n;
const dir = mkdtempSync(join(tmpdir(), 'usmjit-mm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mmap', () => {
  it('anonymous mappings go top-down below mmapTop and read as zero', () => {
    const h = harness();
    const a = h.sys('mmap', 0, 0x2000, RW, ANON, -1, 0);
    expect(a).toBe(BigInt(MMAP_TOP - 0x2000));
    const b = h.sys('mmap', 0, 100, PROT_READ, ANON, -1, 0);
    expect(b).toBe(a - 0x1000n);
    expect(h.as.regionAt(Number(b))).toMatchObject({ start: Number(b), end: Number(a), prot: PROT_READ });
    expect([...h.bytes(Number(a), 16)]).toEqual(new Array(16).fill(0));
    // Writing through read-only pages from the kernel side faults: getrandom into it is -EFAULT.
    expect(h.sys('getrandom', b, 16, 0)).toBe(EFAULT);
    expect(h.sys('getrandom', a, 16, 0)).toBe(16n);
    expect(h.as.populatedPages).toBe(1);
  });

  it('honours a free hint, MAP_FIXED replaces, MAP_FIXED_NOREPLACE refuses', () => {
    const h = harness();
    expect(h.sys('mmap', 0x4000_0000, 0x1000, RW, ANON, -1, 0)).toBe(0x4000_0000n);
    // Hint taken: the range is busy, so somewhere else.
    const other = h.sys('mmap', 0x4000_0000, 0x1000, RW, ANON, -1, 0);
    expect(other).not.toBe(0x4000_0000n);
    h.as.write(0x4000_0000, Uint8Array.of(7));
    expect(h.sys('mmap', 0x4000_0000, 0x1000, PROT_READ, ANON | MAP_FIXED, -1, 0)).toBe(0x4000_0000n);
    expect(h.bytes(0x4000_0000, 1)[0]).toBe(0);
    expect(h.as.regionAt(0x4000_0000)!.prot).toBe(PROT_READ);
    expect(h.sys('mmap', 0x4000_0000, 0x1000, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0)).toBe(EEXIST);
    expect(h.sys('mmap', 0x4000_1000, 0x1000, RW, ANON | MAP_FIXED_NOREPLACE, -1, 0)).toBe(0x4000_1000n);
  });

  it('rejects bad arguments like Linux', () => {
    const h = harness();
    expect(h.sys('mmap', 0, 0, RW, ANON, -1, 0)).toBe(EINVAL);
    expect(h.sys('mmap', 0, 0x1000, RW, MAP_ANONYMOUS, -1, 0)).toBe(EINVAL); // neither shared nor private
    expect(h.sys('mmap', 0, 0x1000, RW, ANON, -1, 0x123)).toBe(EINVAL);
    expect(h.sys('mmap', 0x4000_0123, 0x1000, RW, ANON | MAP_FIXED, -1, 0)).toBe(EINVAL);
    expect(h.sys('mmap', 0, 1n << 50n, RW, ANON, -1, 0)).toBe(ENOMEM);
    expect(h.sys('mmap', 0, -1n, RW, ANON, -1, 0)).toBe(ENOMEM);
    expect(h.sys('mmap', 0x7fff_ffff_0000, 0x10_0000, RW, ANON | MAP_FIXED, -1, 0)).toBe(ENOMEM);
    expect(h.sys('mmap', 0, 0x1000, PROT_READ, MAP_PRIVATE, 99, 0)).toBe(EBADF);
    expect(h.sys('mmap', 0x1000, 0x1000, RW, ANON | MAP_FIXED, -1, 0)).toBe(-1n); // EPERM below mmap_min_addr
  });

  it('file pages are read on first touch, a shared page written back when written (munmap, exit), only then', () => {
    const h = harness();
    const path = join(dir, 'shared.bin');
    writeFileSync(path, Buffer.alloc(0x2800, 0x61));
    h.str(BUF, path);
    const fd = h.sys('open', BUF, 2 /* O_RDWR */);
    const before = h.as.populatedPages;
    const a = Number(h.sys('mmap', 0, 0x3000, RW, MAP_SHARED, fd, 0));
    expect(h.as.populatedPages).toBe(before); // nothing read yet
    expect(h.as.read(a + 0x1000, 1)[0]).toBe(0x61);
    expect(h.as.populatedPages).toBe(before + 1);
    // Read-touched pages are clean: unmapping them writes nothing (the file may have changed meanwhile).
    writeFileSync(path, Buffer.alloc(0x2800, 0x62));
    h.sys('munmap', a + 0x1000, 0x1000);
    expect(readFileSync(path)[0x1000]).toBe(0x62);
    // A written page reaches the file on munmap...
    h.as.write(a + 0x10, Uint8Array.of(0x41));
    h.sys('munmap', a, 0x1000);
    expect(readFileSync(path)[0x10]).toBe(0x41);
    // ...or when the process ends (the CLI syncs), without msync or munmap; not past the end of the file.
    h.as.write(a + 0x2000, Uint8Array.of(0x42, 0x43));
    h.as.write(a + 0x2900, Uint8Array.of(0x44));
    expect(readFileSync(path)[0x2000]).toBe(0x62);
    mappedFiles.syncAll();
    const after = readFileSync(path);
    expect(after.length).toBe(0x2800);
    expect([after[0x2000], after[0x2001]]).toEqual([0x42, 0x43]);
    expect(h.as.read(a + 0x2900, 1)[0]).toBe(0); // the written-back page's tail past the end is zeroed
    h.sys('munmap', a, 0x3000);
  });

  it('file-backed private mappings copy the file bytes; zero past EOF', () => {
    const h = harness();
    const path = join(dir, 'map.bin');
    const data = Buffer.alloc(0x1800);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    writeFileSync(path, data);
    h.str(BUF, path);
    const fd = h.sys('open', BUF, 0);
    const a = Number(h.sys('mmap', 0, 0x3000, PROT_READ, MAP_PRIVATE, fd, 0));
    expect(Buffer.from(h.as.read(a, 0x1800))).toEqual(data);
    expect([...h.as.read(a + 0x1800, 0x800)].every((b) => b === 0)).toBe(true);
    expect(h.as.regionAt(a)!.name).toBe(path);
    const b = Number(h.sys('mmap', 0, 0x1000, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0x1000));
    expect(Buffer.from(h.as.read(b, 0x800))).toEqual(data.subarray(0x1000));
    // A writable shared mapping needs a writable fd.
    expect(h.sys('mmap', 0, 0x1000, RW, MAP_SHARED, fd, 0)).toBe(EACCES);
    expect(h.sys('mmap', 0, 0x1000, PROT_READ, MAP_SHARED, fd, 0)).toBeGreaterThan(0n);
    h.sys('pipe', BUF + 0x100);
    expect(h.sys('mmap', 0, 0x1000, PROT_READ, MAP_PRIVATE, 3 + 1, 0)).toBe(ENODEV);
  });
});

describe('munmap, mprotect, mremap', () => {
  it('munmap splits regions and frees frames', () => {
    const h = harness();
    const a = Number(h.sys('mmap', 0, 0x5000, RW, ANON, -1, 0));
    h.as.write(a, new Uint8Array(0x5000).fill(1));
    const before = h.as.frames.inUse;
    expect(h.sys('munmap', a + 0x1000, 0x2000)).toBe(0n);
    expect(h.as.frames.inUse).toBe(before - 2);
    expect(h.as.regionAt(a)).toMatchObject({ start: a, end: a + 0x1000 });
    expect(h.as.regionAt(a + 0x1000)).toBeUndefined();
    expect(h.as.regionAt(a + 0x3000)).toMatchObject({ start: a + 0x3000, end: a + 0x5000 });
    expect(h.sys('munmap', a + 1, 0x1000)).toBe(EINVAL);
    expect(h.sys('munmap', a, 0)).toBe(EINVAL);
    expect(h.sys('munmap', 0x5000_0000, 0x1000)).toBe(0n); // nothing there: fine
  });

  it('mprotect changes permissions, merges back, and fails on holes', () => {
    const h = harness();
    const a = Number(h.sys('mmap', 0, 0x4000, RW, ANON, -1, 0));
    expect(h.sys('mprotect', a + 0x1000, 0x1000, PROT_READ)).toBe(0n);
    expect(h.as.regions.filter((r) => r.start >= a && r.end <= a + 0x4000)).toHaveLength(3);
    expect(h.sys('read', 0, a + 0x1000, 1)).toBe(EFAULT);
    expect(h.sys('mprotect', a + 0x1000, 0x1000, RW)).toBe(0n);
    expect(h.as.regions.filter((r) => r.start >= a && r.end <= a + 0x4000)).toHaveLength(1);
    expect(h.sys('mprotect', a, 0x5000 + 0x10000, PROT_READ)).toBe(ENOMEM);
    expect(h.sys('mprotect', a + 1, 0x1000, PROT_READ)).toBe(EINVAL);
    expect(h.sys('mprotect', a, 0x1000, 0x10)).toBe(EINVAL);
  });

  it('tells the JIT when executable memory goes away', () => {
    const gone: [number, number][] = [];
    const h = harness({ onUnmapCode: (s, e) => gone.push([s, e]) });
    const a = Number(h.sys('mmap', 0, 0x3000, PROT_READ | PROT_EXEC, ANON, -1, 0));
    h.sys('munmap', a, 0x1000);
    h.sys('mprotect', a + 0x1000, 0x1000, PROT_READ);
    h.sys('mmap', a + 0x2000, 0x1000, RW, ANON | MAP_FIXED, -1, 0);
    expect(gone).toEqual([[a, a + 0x1000], [a + 0x1000, a + 0x2000], [a + 0x2000, a + 0x3000]]);
  });

  it('mremap shrinks, grows in place, and moves with contents', () => {
    const h = harness();
    const a = Number(h.sys('mmap', 0x5000_0000, 0x2000, RW, ANON, -1, 0));
    h.as.write(a, Uint8Array.of(1, 2, 3));
    h.as.write(a + 0x1000, Uint8Array.of(4));
    expect(h.sys('mremap', a, 0x2000, 0x4000, 0, 0)).toBe(BigInt(a)); // grows in place
    expect(h.as.regionAt(a)).toMatchObject({ start: a, end: a + 0x4000 });
    expect(h.sys('mremap', a, 0x4000, 0x1000, 0, 0)).toBe(BigInt(a));
    expect(h.as.regionAt(a + 0x1000)).toBeUndefined();
    h.sys('mmap', a + 0x1000, 0x1000, PROT_READ, ANON | MAP_FIXED, -1, 0); // block growth
    expect(h.sys('mremap', a, 0x1000, 0x3000, 0, 0)).toBe(ENOMEM);
    const b = Number(h.sys('mremap', a, 0x1000, 0x3000, 1 /* MREMAP_MAYMOVE */, 0));
    expect(b).not.toBe(a);
    expect([...h.bytes(b, 3)]).toEqual([1, 2, 3]);
    expect(h.as.regionAt(a)).toBeUndefined();
    expect(h.as.regionAt(b)).toMatchObject({ start: b, end: b + 0x3000, prot: RW });
    const c = Number(h.sys('mremap', b, 0x3000, 0x3000, 3 /* MAYMOVE|FIXED */, 0x6000_0000));
    expect(c).toBe(0x6000_0000);
    expect([...h.bytes(c, 3)]).toEqual([1, 2, 3]);
    expect(h.sys('mremap', c + 1, 0x1000, 0x2000, 1, 0)).toBe(EINVAL);
    expect(h.sys('mremap', 0x7000_0000, 0x1000, 0x2000, 1, 0)).toBe(EFAULT);
    expect(h.sys('mremap', c, 0x1000, 0x2000, 2, 0)).toBe(EINVAL);
  });
});

describe('brk and madvise', () => {
  it('brk(0) returns the break; growth maps [heap]; shrinking unmaps', () => {
    const h = harness();
    expect(h.sys('brk', 0)).toBe(BigInt(HEAP));
    expect(h.sys('brk', HEAP + 0x2345)).toBe(BigInt(HEAP + 0x2345));
    expect(h.as.regionAt(HEAP)).toMatchObject({ start: HEAP, end: HEAP + 0x3000, prot: RW, name: '[heap]' });
    h.as.write(HEAP + 0x2344, Uint8Array.of(9));
    expect(h.sys('brk', HEAP + 0x10000)).toBe(BigInt(HEAP + 0x10000));
    expect(h.as.regions.filter((r) => r.name === '[heap]')).toHaveLength(1);
    expect(h.as.regionAt(HEAP)!.end).toBe(HEAP + 0x10000);
    expect(h.bytes(HEAP + 0x2344, 1)[0]).toBe(9);
    expect(h.sys('brk', HEAP + 0x1000)).toBe(BigInt(HEAP + 0x1000));
    expect(h.as.regionAt(HEAP + 0x1000)).toBeUndefined();
    expect(h.sys('brk', HEAP - 0x1000)).toBe(BigInt(HEAP + 0x1000)); // below the start: unchanged
    // The heap cannot grow into another mapping.
    h.sys('mmap', HEAP + 0x8000, 0x1000, RW, ANON | MAP_FIXED, -1, 0);
    expect(h.sys('brk', HEAP + 0x20000)).toBe(BigInt(HEAP + 0x1000));
    expect(h.sys('brk', 0)).toBe(BigInt(HEAP + 0x1000));
  });

  it('MADV_DONTNEED zeroes private anonymous pages', () => {
    const h = harness();
    const a = Number(h.sys('mmap', 0, 0x3000, RW, ANON, -1, 0));
    h.as.write(a, new Uint8Array(0x3000).fill(0xaa));
    expect(h.sys('madvise', a + 0x1000, 0x1000, 4)).toBe(0n);
    expect(h.bytes(a, 1)[0]).toBe(0xaa);
    expect(h.bytes(a + 0x1000, 1)[0]).toBe(0);
    expect(h.bytes(a + 0x2000, 1)[0]).toBe(0xaa);
    expect(h.as.regionAt(a)).toMatchObject({ start: a, end: a + 0x3000 });
    const s = Number(h.sys('mmap', 0, 0x1000, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    h.as.write(s, Uint8Array.of(5));
    h.sys('madvise', s, 0x1000, 4);
    expect(h.bytes(s, 1)[0]).toBe(5);
    expect(h.sys('madvise', a, 0x1000, 999)).toBe(EINVAL);
    expect(h.sys('madvise', a + 1, 0x1000, 0)).toBe(EINVAL);
    expect(h.sys('madvise', 0x5000_0000, 0x1000, 0)).toBe(ENOMEM);
    expect(h.sys('msync', a, 0x1000, 4)).toBe(0n);
    expect(h.sys('mlock', a, 0x1000)).toBe(0n);
    expect(h.sys('munlock', a, 0x1000)).toBe(0n);
  });
});
