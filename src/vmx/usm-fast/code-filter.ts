/**
 * What the Wasm fast paths must know about translated code (core/layout.ts CODE_FILTER_*,
 * PHYS_CACHE_*): a page that starts holding translated code leaves the frame cache (a later entry
 * for it carries the no-write flag, so writes to it go through TypeScript, which drops the
 * translations), and its virtual page is marked in the filter (an invlpg of a marked page is
 * TypeScript's: the translations made from it may have to go).
 */
import { CODE_FILTER_BASE, CODE_FILTER_BITS, PAGE_SIZE } from '../../core/layout.js';
import { physCacheDrop } from '../../paging/phys-cache.js';

/** jit/code-pages.ts: translations of virtual page `vpn` are being made from page `page`. */
export function codeAdded(dv: DataView, page: number, vpn: number): void {
  physCacheDrop(dv, page * PAGE_SIZE);
  const bit = vpn % 2 ** CODE_FILTER_BITS;
  const at = CODE_FILTER_BASE + (bit >>> 3);
  dv.setUint8(at, dv.getUint8(at) | (1 << (bit & 7)));
}
