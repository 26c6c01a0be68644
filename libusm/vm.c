/*
 * vm.c - 4-level page tables: map, protect, unmap, lookup, walk, clone, free; TLB helpers.
 *
 * Tables are pool pages, reached at their physical address (the supervisor maps the pool 1:1).
 * Intermediate entries are always P|W|U: the leaf alone decides the permissions. A leaf entry is
 * "mapped" when it is present or still holds an address (a page made inaccessible by
 * usm_vm_mprotect keeps its frame, so a later mprotect can restore it); usm_vm_unmap clears it.
 *
 * When the changed address space is the current one (and USM mode is on) each changed entry that
 * was present is invalidated with invlpg; callers that edit entries directly flush themselves.
 *
 * Compiled with -mgeneral-regs-only: it runs inside the CPL0 syscall entry.
 */
#include "internal.h"

#include <errno.h>

#define TABLE_FLAGS (USM_PTE_P | USM_PTE_W | USM_PTE_U)
#define LEVEL_SHIFT(l) (12 + 9 * (l))
#define LEVEL_SIZE(l) (1ull << LEVEL_SHIFT(l))
#define IDX(va, l) (((va) >> LEVEL_SHIFT(l)) & 511)

static inline usm_pte_t *table_of(usm_pte_t e) { return (usm_pte_t *)(uintptr_t)(e & USM_PTE_ADDR); }
static inline uint64_t canon(uint64_t va) { return (uint64_t)((int64_t)(va << 16) >> 16); }

static uint64_t leaf_addr(usm_pte_t e, int level) {
  if (level == 2) return e & USM_PTE_ADDR_HUGE;
  if (level == 1) return e & USM_PTE_ADDR_BIG;
  return e & USM_PTE_ADDR;
}

static int is_mapped_leaf(usm_pte_t e) { return (e & USM_PTE_P) || (e & USM_PTE_ADDR) || (e & USM_PTE_POOL); }

usm_pte_t usm_perm_to_pte(int perm) {
  usm_pte_t f = 0;
  if (perm & (USM_PERM_R | USM_PERM_W | USM_PERM_X)) f |= USM_PTE_P;
  if (perm & USM_PERM_W) f |= USM_PTE_W;
  if (!(perm & USM_PERM_X)) f |= USM_PTE_NX;
  if (perm & USM_PERM_U) f |= USM_PTE_U;
  if (perm & USM_PERM_UC) f |= USM_PTE_PCD;
  if (perm & USM_PERM_G) f |= USM_PTE_G;
  if (perm & USM_PERM_COW) f |= USM_PTE_COW;
  if (perm & USM_PERM_USR) f |= USM_PTE_USR;
  return f;
}

int usm_pte_to_perm(usm_pte_t e) {
  int p = 0;
  if (!(e & USM_PTE_P)) return 0;
  p |= USM_PERM_R;
  if (e & USM_PTE_W) p |= USM_PERM_W;
  if (!(e & USM_PTE_NX)) p |= USM_PERM_X;
  if (e & USM_PTE_U) p |= USM_PERM_U;
  if (e & USM_PTE_PCD) p |= USM_PERM_UC;
  if (e & USM_PTE_G) p |= USM_PERM_G;
  if (e & USM_PTE_COW) p |= USM_PERM_COW;
  if (e & USM_PTE_USR) p |= USM_PERM_USR;
  return p;
}

void usm__vm_flush_page(usm_pte_t *root, uint64_t va) {
  if (usm__active && root == usm__cur_root) usm_invlpg((const void *)va);
}

/* Splits the large leaf *e (at level 1 or 2) into a table of the next level. */
static int split(usm_pte_t *e, int level) {
  uint64_t t = usm_page_alloc();
  if (!t) return -ENOMEM;
  usm_pte_t *tab = (usm_pte_t *)t;
  usm_pte_t old = *e;
  uint64_t base = leaf_addr(old, level);
  usm_pte_t flags = old & (USM_PTE_FLAGS & ~USM_PTE_ADDR);
  flags &= ~(0x1000ull); /* PAT bit of a large page */
  if (level - 1 == 0) flags &= ~USM_PTE_PS;
  for (int i = 0; i < 512; i++) tab[i] = (base + (uint64_t)i * LEVEL_SIZE(level - 1)) | flags;
  *e = t | TABLE_FLAGS | (old & USM_PTE_A);
  return 0;
}

/*
 * The entry for va at level `target` (0 4K, 1 2M, 2 1G). Walks from the PML4; with create, missing
 * tables are allocated and large pages above the target split. Without create, stops at a large
 * leaf above the target or at a missing table. *level_out = the level of the returned entry.
 */
static usm_pte_t *walk_to(usm_pte_t *root, uint64_t va, int target, int create, int *level_out, int *err) {
  usm_pte_t *tab = root;
  for (int l = 3; l > target; l--) {
    usm_pte_t *e = &tab[IDX(va, l)];
    if (l <= 2 && (*e & USM_PTE_PS) && is_mapped_leaf(*e)) {
      /* a large leaf (present, or made inaccessible) above the target level */
      if (!create) {
        if (level_out) *level_out = l;
        return e;
      }
      int was_present = (*e & USM_PTE_P) != 0;
      int r = split(e, l);
      if (r) {
        if (err) *err = r;
        return 0;
      }
      if (was_present) usm__vm_flush_page(root, va);
    } else if (!(*e & USM_PTE_P)) {
      if (!create) {
        if (err) *err = -ENOENT;
        return 0;
      }
      uint64_t t = usm_page_alloc();
      if (!t) {
        if (err) *err = -ENOMEM;
        return 0;
      }
      *e = t | TABLE_FLAGS;
    }
    tab = table_of(*e);
  }
  if (level_out) *level_out = target;
  return &tab[IDX(va, target)];
}

int usm_vm_lookup(usm_pte_t *root, const void *va, int create, usm_pte_t **out) {
  usm__mm_sync(); /* what vmcalls mapped first (ksys.c) */
  int level = 0, err = 0;
  usm_pte_t *e = walk_to(root, (uint64_t)va, 0, create, &level, &err);
  if (out) *out = e;
  return e ? level : err;
}

/* Frees a table subtree at `level` (1-3 hold tables; entries of level 0 are leaves). */
static void free_table(usm_pte_t *tab, int level) {
  for (int i = 0; i < 512; i++) {
    usm_pte_t e = tab[i];
    if (level > 0 && (e & USM_PTE_P) && !(e & USM_PTE_PS)) free_table(table_of(e), level - 1);
    else if ((e & USM_PTE_POOL) && (level == 0 || (e & USM_PTE_PS))) usm_page_put(leaf_addr(e, level));
  }
  usm_page_free((uint64_t)tab);
}

static void drop_entry(usm_pte_t *e, int level) {
  usm_pte_t old = *e;
  if (level > 0 && (old & USM_PTE_P) && !(old & USM_PTE_PS)) free_table(table_of(old), level - 1);
  else if (old & USM_PTE_POOL) usm_page_put(leaf_addr(old, level));
}

int usm_vm_map_phys(usm_pte_t *root, void *va_, size_t len, uint64_t pa, int perm) {
  usm__mm_sync(); /* what vmcalls mapped first (ksys.c) */
  uint64_t va = (uint64_t)va_;
  int level = (perm & USM_PERM_HUGE) ? 2 : (perm & USM_PERM_BIG) ? 1 : 0;
  uint64_t step = LEVEL_SIZE(level);
  if ((va | pa) & (step - 1)) return -EINVAL;
  uint64_t alen = (len + step - 1) & ~(step - 1);
  usm_pte_t flags = usm_perm_to_pte(perm);
  if (level) flags |= USM_PTE_PS;
  int take_ref = perm & USM_PERM_REF;
  for (uint64_t off = 0; off < alen; off += step) {
    int err = 0;
    usm_pte_t *e = walk_to(root, va + off, level, 1, 0, &err);
    if (!e) return err;
    usm_pte_t old = *e;
    usm_pte_t f = flags;
    if (take_ref && level == 0 && usm_page_is_pool(pa + off)) {
      usm_page_get(pa + off);
      f |= USM_PTE_POOL;
    }
    drop_entry(e, level);
    *e = (pa + off) | f;
    if (level > 0 && (old & USM_PTE_P) && !(old & USM_PTE_PS)) {
      if (usm__active && root == usm__cur_root) usm_flush_tlb_global();
    } else if (old & USM_PTE_P) {
      usm__vm_flush_page(root, va + off);
    }
  }
  return 0;
}

int usm_vm_map_pages(usm_pte_t *root, void *va_, size_t len, int perm) {
  usm__mm_sync(); /* what vmcalls mapped first (ksys.c) */
  uint64_t va = USM__PAGE_DOWN(va_);
  uint64_t end = USM__PAGE_UP((uint64_t)va_ + len);
  usm_pte_t flags = usm_perm_to_pte(perm & ~(USM_PERM_BIG | USM_PERM_HUGE)) | USM_PTE_POOL;
  for (; va < end; va += 4096) {
    int err = 0;
    usm_pte_t *e = walk_to(root, va, 0, 1, 0, &err);
    if (!e) return err;
    uint64_t pa = usm_page_alloc();
    if (!pa) return -ENOMEM;
    usm_pte_t old = *e;
    drop_entry(e, 0);
    *e = pa | flags;
    if (old & USM_PTE_P) usm__vm_flush_page(root, va);
  }
  return 0;
}

/* Applies (e & ~clear) | set to every mapped leaf of [va, va+len), splitting large pages that are
 * only partly covered. */
static int change_range(usm_pte_t *root, uint64_t va, uint64_t len, usm_pte_t set, usm_pte_t clear, int unmap) {
  usm__mm_sync(); /* what vmcalls mapped first (ksys.c) */
  uint64_t end = USM__PAGE_UP(va + len);
  va = USM__PAGE_DOWN(va);
  while (va < end) {
    int level = 0;
    usm_pte_t *e = walk_to(root, va, 0, 0, &level, 0);
    if (!e) {
      /* no table: skip to the next table boundary of the deepest level that exists */
      uint64_t skip = LEVEL_SIZE(1);
      usm_pte_t *tab = root;
      for (int l = 3; l > 0; l--) {
        usm_pte_t x = tab[IDX(va, l)];
        if (!(x & USM_PTE_P)) {
          skip = LEVEL_SIZE(l);
          break;
        }
        tab = table_of(x);
      }
      uint64_t next = (va & ~(skip - 1)) + skip;
      if (next <= va) break;
      va = next;
      continue;
    }
    if (level > 0) {
      uint64_t size = LEVEL_SIZE(level);
      if ((va & (size - 1)) == 0 && va + size <= end) {
        usm_pte_t old = *e;
        if (unmap) {
          drop_entry(e, level);
          *e = 0;
        } else {
          *e = (old & ~clear) | set | USM_PTE_PS;
        }
        if (old & USM_PTE_P) usm__vm_flush_page(root, va);
        va += size;
        continue;
      }
      int err = 0;
      e = walk_to(root, va, 0, 1, 0, &err);
      if (!e) return err;
    }
    usm_pte_t old = *e;
    if (is_mapped_leaf(old)) {
      if (unmap) {
        drop_entry(e, 0);
        *e = 0;
      } else {
        *e = (old & ~clear) | set;
      }
      if ((old & USM_PTE_P) && *e != old) usm__vm_flush_page(root, va);
    }
    va += 4096;
  }
  return 0;
}

int usm_vm_mprotect(usm_pte_t *root, void *va, size_t len, int perm) {
  usm_pte_t set = usm_perm_to_pte(perm & ~(USM_PERM_BIG | USM_PERM_HUGE | USM_PERM_REF));
  usm_pte_t clear = USM_PTE_P | USM_PTE_W | USM_PTE_U | USM_PTE_NX | USM_PTE_PCD | USM_PTE_G | USM_PTE_COW | USM_PTE_USR;
  return change_range(root, (uint64_t)va, len, set, clear, 0);
}

int usm__vm_set_flags(usm_pte_t *root, uint64_t va, uint64_t len, uint64_t set, uint64_t clear) {
  return change_range(root, va, len, set, clear, 0);
}

void usm_vm_unmap(usm_pte_t *root, void *va, size_t len) { change_range(root, (uint64_t)va, len, 0, 0, 1); }

/* ---- walk */

struct walk_ctx {
  usm_walk_fn fn;
  void *arg;
  int flags;
  uint64_t start, last; /* inclusive */
};

static int walk_level(struct walk_ctx *w, usm_pte_t *tab, int level, uint64_t base) {
  uint64_t size = LEVEL_SIZE(level);
  uint64_t lo = w->start > base ? w->start : base;
  uint64_t hi = w->last < base + (size * 512 - 1) ? w->last : base + (size * 512 - 1);
  if (level == 3) { /* the PML4 spans the whole (canonical) space */
    lo = w->start;
    hi = w->last;
  }
  if (lo > hi) return 0;
  for (unsigned i = IDX(lo, level), n = IDX(hi, level); i <= n; i++) {
    uint64_t va = level == 3 ? canon((uint64_t)i << 39) : base + (uint64_t)i * size;
    usm_pte_t *e = &tab[i];
    if (!(*e & USM_PTE_P)) {
      if (level == 0 && (w->flags & USM_WALK_ALL)) {
        int r = w->fn(w->arg, e, (void *)va, 0);
        if (r) return r;
      }
      continue;
    }
    if (level == 0 || (*e & USM_PTE_PS)) {
      int r = w->fn(w->arg, e, (void *)va, level);
      if (r) return r;
      continue;
    }
    int r = walk_level(w, table_of(*e), level - 1, va);
    if (r) return r;
  }
  return 0;
}

int usm_vm_walk_flags(usm_pte_t *root, const void *start, const void *end, int flags, usm_walk_fn fn, void *arg) {
  usm__mm_sync(); /* what vmcalls mapped first (ksys.c) */
  if ((uint64_t)end <= (uint64_t)start && (uint64_t)end != 0) return 0;
  struct walk_ctx w = {fn, arg, flags, (uint64_t)start, (uint64_t)end - 1};
  /* a range crossing the non-canonical hole is walked as its two halves */
  if (w.start < 0x800000000000ull && w.last >= 0x800000000000ull) {
    uint64_t last = w.last;
    w.last = 0x7fffffffffffull;
    int r = walk_level(&w, root, 3, 0);
    if (r) return r;
    if (last < 0xffff800000000000ull) return 0;
    w.start = 0xffff800000000000ull;
    w.last = last;
  }
  return walk_level(&w, root, 3, 0);
}

int usm_vm_walk(usm_pte_t *root, const void *start, const void *end, usm_walk_fn fn, void *arg) {
  return usm_vm_walk_flags(root, start, end, 0, fn, arg);
}

/* ---- clone / free */

static int clone_table(usm_pte_t *dst, const usm_pte_t *src, int level) {
  for (int i = 0; i < 512; i++) {
    usm_pte_t e = src[i];
    if (level > 0 && (e & USM_PTE_P) && !(e & USM_PTE_PS)) {
      uint64_t t = usm_page_alloc();
      if (!t) return -ENOMEM;
      dst[i] = t | (e & USM_PTE_FLAGS);
      int r = clone_table((usm_pte_t *)t, table_of(e), level - 1);
      if (r) return r;
    } else {
      if ((e & USM_PTE_POOL) && (level == 0 || (e & USM_PTE_PS))) usm_page_get(leaf_addr(e, level));
      dst[i] = e;
    }
  }
  return 0;
}

usm_pte_t *usm_vm_clone(usm_pte_t *root) {
  usm__mm_sync(); /* what vmcalls mapped first (ksys.c) */
  uint64_t t = usm_page_alloc();
  if (!t) return 0;
  if (clone_table((usm_pte_t *)t, root, 3)) {
    usm_vm_free((usm_pte_t *)t);
    return 0;
  }
  return (usm_pte_t *)t;
}

void usm_vm_free(usm_pte_t *root) {
  if (!root || root == usm__cur_root) return;
  free_table(root, 3);
}

/* ---- user sections */

extern char __start_usm_user_text[] __attribute__((weak));
extern char __stop_usm_user_text[] __attribute__((weak));
extern char __start_usm_user_data[] __attribute__((weak));
extern char __stop_usm_user_data[] __attribute__((weak));

int usm_map_user_sections(usm_pte_t *root) {
  int r = 0;
  if ((uintptr_t)__start_usm_user_text && (uintptr_t)__stop_usm_user_text > (uintptr_t)__start_usm_user_text)
    r = usm__vm_set_flags(root, (uint64_t)__start_usm_user_text, (uint64_t)(__stop_usm_user_text - __start_usm_user_text), USM_PTE_U, 0);
  if (!r && (uintptr_t)__start_usm_user_data && (uintptr_t)__stop_usm_user_data > (uintptr_t)__start_usm_user_data)
    r = usm__vm_set_flags(root, (uint64_t)__start_usm_user_data, (uint64_t)(__stop_usm_user_data - __start_usm_user_data), USM_PTE_U, 0);
  return r;
}

/* ---- TLB and CR3 */

usm_pte_t *usm_current_root(void) { return usm__cur_root; }

void usm_flush_tlb_one(const void *va) { usm_invlpg(va); }

void usm_flush_tlb(void) { usm_write_cr3(usm_read_cr3() & ~USM_CR3_NOFLUSH); }

void usm_flush_tlb_global(void) {
  uint64_t cr4 = usm_read_cr4();
  usm_write_cr4(cr4 & ~USM_CR4_PGE);
  usm_write_cr4(cr4);
}

void usm_load_cr3(usm_pte_t *root, unsigned pcid, int noflush) {
  uint64_t v = (uint64_t)root | (pcid & 0xfff);
  if (noflush) v |= USM_CR3_NOFLUSH;
  usm__cur_root = root;
  usm_write_cr3(v);
}

int usm_enable_pcid(void) {
  if (usm_read_cr3() & 0xfff) return -EINVAL;
  usm_write_cr4(usm_read_cr4() | USM_CR4_PCIDE);
  return 0;
}

void usm_invpcid(unsigned type, unsigned pcid, const void *va) {
  struct {
    uint64_t pcid, addr;
  } desc = {pcid, (uint64_t)va};
  __asm__ volatile("invpcid %0, %1" : : "m"(desc), "r"((uint64_t)type) : "memory");
}
