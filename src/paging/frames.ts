import { FRAMES_BASE, INITIAL_WASM_PAGES, MAX_WASM_PAGES, PAGE_SIZE, WASM_PAGE } from '../core/layout.js';

/** Thrown when the guest asks for more memory than the 4 GiB Wasm memory can hold. */
export class OutOfFrames extends Error {}

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
    this.memory = memory ?? new WebAssembly.Memory({ initial: INITIAL_WASM_PAGES, maximum: MAX_WASM_PAGES });
    this.bytes = new Uint8Array(this.memory.buffer);
    this.data = new DataView(this.memory.buffer);
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
        // Grow in 16 MiB steps to keep the number of detaching grows small.
        const pages = Math.max(256, Math.ceil((need - have) / WASM_PAGE));
        const current = have / WASM_PAGE;
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
