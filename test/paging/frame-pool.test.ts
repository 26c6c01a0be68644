import { describe, expect, it } from 'vitest';
import { FRAMES_BASE, PAGE_SIZE } from '../../src/core/layout.js';
import { FrameAllocator, spareMemories } from '../../src/paging/frames.js';

describe('the memories of ended machines (paging/frames.ts)', () => {
  it('serve the next allocator, zeroed, and the retired allocator no longer reaches them', () => {
    const a = new FrameAllocator();
    const f = a.alloc();
    expect(f).toBe(FRAMES_BASE);
    a.u8.fill(0xee, 0, f + PAGE_SIZE); // the low structures and the frame
    const memory = a.memory;
    const before = spareMemories();
    a.retire();
    expect(spareMemories()).toBe(before + 1);
    expect(a.u8.length).toBe(0);
    a.retire(); // once only
    expect(spareMemories()).toBe(before + 1);
    const b = new FrameAllocator();
    expect(b.memory).toBe(memory);
    expect(spareMemories()).toBe(before);
    expect(b.u8.subarray(0, f + PAGE_SIZE).every((x) => x === 0)).toBe(true);
    expect(b.alloc()).toBe(FRAMES_BASE);
  });

  it('keeps at most two, and none larger than 256 MiB', () => {
    while (spareMemories()) new FrameAllocator();
    const big = new FrameAllocator();
    big.memory.grow(4096); // +256 MiB
    big.retire();
    expect(spareMemories()).toBe(0);
    const three = [new FrameAllocator(), new FrameAllocator(), new FrameAllocator()];
    for (const x of three) x.retire();
    expect(spareMemories()).toBe(2);
  });
});
