/*
 * page.c - the physical page pool: chunks of anonymous memory obtained with mmap, handed out one
 * 4 KiB page at a time with a reference count. Physical == virtual in the supervisor's 1:1 map.
 *
 * Each chunk keeps its reference counts in its first pages. Pages never handed out yet are taken
 * from a bump pointer (they are still zero and untouched, so a large pool costs nothing until
 * used); freed pages go on a free list linked through their first word and are zeroed again when
 * handed out. The pool grows by a new chunk when it runs low; in USM mode the new chunk is
 * mapped 1:1 into usm_root first, using pages from the reserve kept for that.
 *
 * Compiled with -mgeneral-regs-only: it runs inside the CPL0 syscall entry.
 */
#include "internal.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define MAX_CHUNKS 256
#define GROW_BYTES (16ull << 20)
#define RESERVE_PAGES 48

struct chunk {
  uint64_t base;     /* first page (metadata) */
  uint64_t npages;   /* pages in the chunk, metadata included */
  uint64_t first;    /* first allocatable page index */
  uint64_t bump;     /* next never-used page index */
  uint32_t *ref;     /* reference count per page index */
};

static struct chunk chunks[MAX_CHUNKS];
static int nchunks;
static uint64_t free_head; /* physical address of the first free page, 0 if none */
static uint64_t free_pages;  /* on the free list */
static uint64_t bump_pages;  /* still untouched in the chunks */
static uint64_t total_pages;
static int growing;

static int add_chunk(uint64_t base, uint64_t bytes) {
  if (nchunks == MAX_CHUNKS) return -ENOMEM;
  struct chunk *c = &chunks[nchunks];
  c->base = base;
  c->npages = bytes >> 12;
  uint64_t meta = (c->npages * sizeof(uint32_t) + 4095) >> 12;
  c->first = meta;
  c->bump = meta;
  c->ref = (uint32_t *)base;
  bump_pages += c->npages - meta;
  total_pages += c->npages - meta;
  nchunks++;
  return 0;
}

static uint64_t chunk_mmap(uint64_t bytes) {
  long r = usm__raw_syscall6(SYS_mmap, 0, (long)bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (USM__IS_ERR(r)) return 0;
  return (uint64_t)r;
}

int usm__page_init(size_t initial_bytes) {
  if (nchunks) return 0;
  uint64_t bytes = USM__PAGE_UP(initial_bytes);
  uint64_t base = chunk_mmap(bytes);
  if (!base) return -ENOMEM;
  return add_chunk(base, bytes);
}

static int grow(void) {
  growing = 1;
  uint64_t base = chunk_mmap(GROW_BYTES);
  int r = -ENOMEM;
  if (base) {
    r = 0;
    if (usm__active && usm_root) {
      /* supervisor RW, never user: page tables live here */
      r = usm_vm_map_phys(usm_root, (void *)base, GROW_BYTES, base, USM_PERM_RW);
      if (r == 0 && usm__cur_root && usm__cur_root != usm_root)
        r = usm_vm_map_phys(usm__cur_root, (void *)base, GROW_BYTES, base, USM_PERM_RW);
    }
    if (r == 0) r = add_chunk(base, GROW_BYTES);
  }
  growing = 0;
  return r;
}

static struct chunk *find_chunk(uint64_t pa) {
  for (int i = 0; i < nchunks; i++) {
    struct chunk *c = &chunks[i];
    if (pa >= c->base + (c->first << 12) && pa < c->base + (c->npages << 12)) return c;
  }
  return 0;
}

uint64_t usm_page_alloc(void) {
  if (!growing && free_pages + bump_pages < RESERVE_PAGES) grow();
  uint64_t pa;
  if (free_head) {
    pa = free_head;
    free_head = *(uint64_t *)pa;
    free_pages--;
    usm__zero_page((void *)pa);
  } else {
    pa = 0;
    for (int i = nchunks - 1; i >= 0; i--) {
      struct chunk *c = &chunks[i];
      if (c->bump < c->npages) {
        pa = c->base + (c->bump++ << 12);
        bump_pages--;
        break;
      }
    }
    if (!pa) return 0;
  }
  struct chunk *c = find_chunk(pa);
  c->ref[(pa - c->base) >> 12] = 1;
  return pa;
}

static void release(struct chunk *c, uint64_t pa) {
  c->ref[(pa - c->base) >> 12] = 0;
  *(uint64_t *)pa = free_head;
  free_head = pa;
  free_pages++;
}

void usm_page_free(uint64_t pa) {
  struct chunk *c = find_chunk(pa);
  if (!c) return;
  release(c, pa);
}

void usm_page_get(uint64_t pa) {
  struct chunk *c = find_chunk(pa);
  if (c) c->ref[(pa - c->base) >> 12]++;
}

void usm_page_put(uint64_t pa) {
  struct chunk *c = find_chunk(pa);
  if (!c) return;
  uint32_t *r = &c->ref[(pa - c->base) >> 12];
  if (*r == 0) return;
  if (--*r == 0) release(c, pa);
}

int usm_page_is_pool(uint64_t pa) { return find_chunk(pa & ~0xfffull) != 0; }

int usm_page_refcount(uint64_t pa) {
  struct chunk *c = find_chunk(pa & ~0xfffull);
  return c ? (int)c->ref[((pa & ~0xfffull) - c->base) >> 12] : -1;
}

size_t usm_page_free_count(void) { return free_pages + bump_pages; }
size_t usm_page_total_count(void) { return total_pages; }

/* The idx-th chunk's overlap with [begin, end): 1 and the overlap, 0 if none, -1 past the last. */
int usm__page_chunk_overlaps(uint64_t begin, uint64_t end, uint64_t *ob, uint64_t *oe, int idx) {
  if (idx >= nchunks) return -1;
  uint64_t cb = chunks[idx].base, ce = cb + (chunks[idx].npages << 12);
  uint64_t b = begin > cb ? begin : cb, e = end < ce ? end : ce;
  if (b >= e) return 0;
  *ob = b;
  *oe = e;
  return 1;
}
