import { PAGE_SIZE } from '../core/layout.js';
import type { CodeWatch } from '../paging/code-watch.js';

/**
 * Which pages hold translated code: the one owner of that fact (paging reads it through
 * CodeWatch). Keyed by the page of the AddressSpace the bytes came from (a guest-physical page in
 * USM mode; in Linux mode the virtual page is that page), each with the virtual pages whose
 * translations were made from it, so a write through any alias drops them all.
 */
export class CodePages implements CodeWatch {
  private readonly pages = new Map<number, Set<number>>();

  constructor(
    /** Drops the translations made from virtual page `vpn` (CodeCache.invalidatePage). */
    private readonly invalidate: (vpn: number) => void,
    /** The running block may be stale: make translated code return to the dispatcher. */
    private readonly stopSoon: () => void,
    /** A new (page, vpn) pair: caches that let writes or invlpg bypass TypeScript must forget it. */
    private readonly added: (page: number, vpn: number) => void = () => {},
  ) {}

  has(page: number): boolean {
    return this.pages.has(page);
  }

  /** Translations of virtual page `vpn` are being made from page `page` (a fetch). */
  add(page: number, vpn: number): void {
    let set = this.pages.get(page);
    if (!set) this.pages.set(page, (set = new Set()));
    if (set.has(vpn)) return;
    set.add(vpn);
    this.added(page, vpn);
  }

  /** A write reaches page address `pageAddr` (or its code went away): drop its translations. */
  written(pageAddr: number): void {
    const page = Math.floor(pageAddr / PAGE_SIZE);
    const vpns = this.pages.get(page);
    if (!vpns) return;
    this.pages.delete(page);
    for (const v of vpns) this.invalidate(v);
    this.stopSoon();
  }

  /** Every translation was dropped (CodeCache.flushAll). */
  clear(): void {
    this.pages.clear();
  }
}
