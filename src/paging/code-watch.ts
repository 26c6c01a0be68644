/**
 * Pages holding translated code, as paging sees them. The JIT owns the set (jit/code-pages.ts);
 * paging asks `has` before caching a write right in the TLB and calls `written` before a write
 * lands on such a page (self-modifying code), with the page's address in the AddressSpace
 * (a guest-physical page in USM mode).
 */
export interface CodeWatch {
  has(page: number): boolean;
  written(pageAddr: number): void;
}

/** No translated code anywhere (an address space not attached to a JIT yet). */
export const NO_CODE: CodeWatch = { has: () => false, written: () => {} };
