import { FRAMES_BASE, INITIAL_WASM_PAGES, MAX_WASM_PAGES, PAGE_SIZE, WASM_PAGE } from '../core/layout.js';

/** Thrown when the guest asks for more memory than the 4 GiB Wasm memory can hold. */
export class OutOfFrames extends Error {}

/**
 * Memories of machines that ended (a process exited or exec'd), kept for the next machine (a
 * fork, an exec) and zeroed when taken. A new WebAssembly.Memory page-faults on every page that
 * a fork copies or a machine's set-up touches, and V8 counts it as external memory and collects
 * garbage for it; one whose pages are already backed does neither (busybox sh: 50 subshells
 * 2.06 -> 1.65 s). Few, and not large ones: host memory stays bounded.
 */
const spares: { memory: WebAssembly.Memory; used: number }[] = [];
const MAX_SPARES = 2;
const MAX_SPARE_BYTES = 256 << 20;

/** How many ended machines' memories are waiting for reuse (tests). */
export function spareMemories(): number {
  return spares.length;
}

/**
 * Page frames: 4 KiB pieces of the one WebAssembly.Memory, handed out on demand and recycled.
 * A frame is named by its host address (its offset in the Wasm memory).
 */
export class FrameAllocator {
  readonly memory: WebAssembly.Memory;
  private next = FRAMES_BASE;
  private free: number[] = [];
  private bytes: Uint8Array;
  private data: DataView;
  /** Frames in use, for statistics and leak checks. */
  inUse = 0;
  /**
   * Bumped when the memory grows (which detaches every view of the old buffer). Reading
   * `memory.buffer` is slow enough to show in fault round trips, so views are refreshed here,
   * and other holders of views compare this number.
   */
  version = 0;

  constructor(memory?: WebAssembly.Memory) {
    const spare = memory ? undefined : spares.pop();
    if (spare) new Uint8Array(spare.memory.buffer, 0, spare.used).fill(0); // as a new memory is
    this.memory = memory ?? spare?.memory ?? new WebAssembly.Memory({ initial: INITIAL_WASM_PAGES, maximum: MAX_WASM_PAGES });
    this.bytes = new Uint8Array(this.memory.buffer);
    this.data = new DataView(this.memory.buffer);
  }

  private retired = false;

  /**
   * The machine owning this memory ended for good: the memory may serve the next machine. Nothing
   * may read or write it through this allocator (or views of it) afterwards.
   */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    if (spares.length < MAX_SPARES && this.memory.buffer.byteLength <= MAX_SPARE_BYTES) spares.push({ memory: this.memory, used: this.next });
    this.bytes = new Uint8Array(0);
    this.data = new DataView(new ArrayBuffer(0));
  }

  /** A view of the whole memory. */
  get u8(): Uint8Array {
    return this.bytes;
  }

  /** A DataView of the whole memory. */
  get dv(): DataView {
    return this.data;
  }

  private grew(): void {
    this.bytes = new Uint8Array(this.memory.buffer);
    this.data = new DataView(this.memory.buffer);
    this.version++;
  }

  /** A zero-filled frame. */
  alloc(): number {
    let f = this.free.pop();
    if (f === undefined) {
      f = this.next;
      const need = f + PAGE_SIZE;
      const have = this.memory.buffer.byteLength;
      if (need > have) {
        // Grow by half the memory, at least 16 MiB: every grow detaches the buffer, and V8 counts
        // it as external memory, for which it runs a full collection at most grows (a 256 MiB
        // buffer touched once: 16 grows of 16 MiB, ~100 ms of collections). Growing reserves no
        // host memory: a page costs only once it is touched.
        const current = have / WASM_PAGE;
        const pages = Math.max(256, Math.ceil((need - have) / WASM_PAGE), current >> 1);
        if (current + pages > MAX_WASM_PAGES) {
          if (need - have > 0 && current < MAX_WASM_PAGES) { this.memory.grow(MAX_WASM_PAGES - current); this.grew(); }
          else throw new OutOfFrames('guest memory exhausted');
          if (need > this.memory.buffer.byteLength) throw new OutOfFrames('guest memory exhausted');
        } else {
          this.memory.grow(pages);
          this.grew();
        }
      }
      this.next = need;
    } else {
      this.u8.fill(0, f, f + PAGE_SIZE);
    }
    this.inUse++;
    return f;
  }

  /** fork: the same frames in use, holding the same bytes, at the same offsets. */
  copyFrom(other: FrameAllocator): void {
    const have = this.memory.buffer.byteLength, need = other.memory.buffer.byteLength;
    if (need > have) {
      this.memory.grow((need - have) / WASM_PAGE);
      this.grew();
    }
    this.bytes.set(other.bytes.subarray(FRAMES_BASE, other.next), FRAMES_BASE);
    this.next = other.next;
    this.free = [...other.free];
    this.inUse = other.inUse;
  }

  release(frame: number): void {
    this.free.push(frame);
    this.inUse--;
  }
}
