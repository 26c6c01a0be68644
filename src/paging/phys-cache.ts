/**
 * The guest-physical frame cache the Wasm page walk reads (shape: core/layout.ts PHYS_CACHE_*).
 * TypeScript fills it whenever paging/mmu.ts resolves a guest-physical page, and invalidates it
 * by bumping the epoch word (address-space.ts, whenever a page loses its frame) or by dropping one
 * entry (a page that starts holding translated code).
 */
import { PAGE_SIZE, PHYS_CACHE_BASE, PHYS_CACHE_ENTRIES, PHYS_CACHE_ENTRY_SIZE, PHYS_EPOCH } from '../core/layout.js';

/** Entry offset of guest-physical page address `page` (the same hash the Wasm uses: page number mod entries). */
export function physCacheEntry(page: number): number {
  return PHYS_CACHE_BASE + (Math.floor(page / PAGE_SIZE) % PHYS_CACHE_ENTRIES) * PHYS_CACHE_ENTRY_SIZE;
}

/** Publishes the address space's epoch: entries stamped with another one are stale. */
export function setPhysEpoch(dv: DataView, epoch: number): void {
  dv.setInt32(PHYS_EPOCH, (epoch + 1) | 0, true);
}

export function physCacheFill(dv: DataView, page: number, frame: number, noWrite: boolean): void {
  const e = physCacheEntry(page);
  dv.setFloat64(e, 0, true); // (cleared first: the page is written as two halves)
  dv.setUint32(e, page % 0x1_0000_0000, true);
  dv.setUint32(e + 4, Math.floor(page / 0x1_0000_0000), true);
  dv.setInt32(e + 8, frame, true);
  dv.setInt32(e + 12, ((dv.getInt32(PHYS_EPOCH, true) << 1) | (noWrite ? 1 : 0)) | 0, true);
}

/** Forgets `page`'s entry if it holds that page. */
export function physCacheDrop(dv: DataView, page: number): void {
  const e = physCacheEntry(page);
  if (dv.getUint32(e, true) === page % 0x1_0000_0000 && dv.getUint32(e + 4, true) === Math.floor(page / 0x1_0000_0000)) {
    dv.setInt32(e + 12, 0, true);
  }
}
