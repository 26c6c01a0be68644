/*
 * ksys.c - system calls made at CPL0 (glibc's `syscall` instructions reach usm__ksyscall through the
 * LSTAR entry): forwarded with vmcall, with the page tables kept in step with the process's
 * memory (mmap, munmap, mprotect, mremap, brk); and the /proc/self/maps scan that builds the 1:1
 * map.
 *
 * Compiled with -mgeneral-regs-only and without calls to glibc's string functions: the syscall
 * entry does not save the vector registers (the kernel keeps them, so glibc may too).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

long usm__raw_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
  register long r10 __asm__("r10") = a4;
  register long r8 __asm__("r8") = a5;
  register long r9 __asm__("r9") = a6;
  long ret;
  if (usm__active && usm_cpl() == 0) {
    __asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9) : "memory");
  } else {
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
  }
  return ret;
}

static int prot_to_perm(long prot, int user) {
  int perm = 0;
  if (prot & PROT_READ) perm |= USM_PERM_R;
  if (prot & PROT_WRITE) perm |= USM_PERM_R | USM_PERM_W;
  if (prot & PROT_EXEC) perm |= USM_PERM_R | USM_PERM_X;
  if (perm && (user || (usm__init_flags & USM_INIT_MAP_USER))) perm |= USM_PERM_U;
  return perm;
}

/* Maps [begin, end) 1:1 in the supervisor's address space (and the current one, if another). */
static void identity(uint64_t begin, uint64_t end, int perm) {
  if (end <= begin) return;
  if (!perm) {
    usm_vm_unmap(usm_root, (void *)begin, end - begin);
    if (usm__cur_root && usm__cur_root != usm_root) usm_vm_unmap(usm__cur_root, (void *)begin, end - begin);
    return;
  }
  usm_vm_map_phys(usm_root, (void *)begin, end - begin, begin, perm);
  if (usm__cur_root && usm__cur_root != usm_root) usm_vm_map_phys(usm__cur_root, (void *)begin, end - begin, begin, perm);
}

static void unmap_both(uint64_t begin, uint64_t len) {
  usm_vm_unmap(usm_root, (void *)begin, len);
  if (usm__cur_root && usm__cur_root != usm_root) usm_vm_unmap(usm__cur_root, (void *)begin, len);
}

/* ---- the mm log (usm_abi.h): memory-map changes made by vmcalls libusm did not make ---------- */

struct usm_mm_log usm__mm_log __attribute__((aligned(64)));
unsigned long usm__lstar_kcalls;
static int mm_syncing;

/* Applies the events usmjit appended since the last call: a range with Linux protection gets the
 * 1:1 mapping with those rights (supervisor-only unless USM_INIT_MAP_USER), an unmapped or
 * PROT_NONE range loses its mapping. Overflow: rescan /proc/self/maps (maps what is missing). */
int usm__mm_sync(void) {
  volatile struct usm_mm_log *log = &usm__mm_log;
  if (!usm__active || mm_syncing || (log->head == log->tail && !log->overflow)) return 0;
  mm_syncing = 1;
  uint32_t head = log->head;
  for (uint32_t t = log->tail; t != head; t++) {
    volatile struct usm_mm_event *e = &log->ev[t % USM_MM_LOG_LEN];
    identity(e->begin, e->end, prot_to_perm((long)e->prot, 0));
  }
  log->tail = head;
  if (log->overflow) {
    log->overflow = 0;
    usm__map_procmaps();
  }
  mm_syncing = 0;
  return 1;
}

int usm_mm_sync(void) { return usm__mm_sync(); }
unsigned long usm_lstar_kcalls(void) { return usm__lstar_kcalls; }

long usm__syscall_mm(long nr, long a1, long a2, long a3, long a4, long a5, long a6, int user) {
  int mm = nr == SYS_mmap || nr == SYS_munmap || nr == SYS_mprotect || nr == SYS_mremap || nr == SYS_brk;
  /* earlier vmcalls first; then this call's own events are dropped: the bookkeeping below does
     the same with the right user bit */
  if (mm) usm__mm_sync();
  long ret = usm__raw_syscall6(nr, a1, a2, a3, a4, a5, a6);
  if (mm) usm__mm_log.tail = usm__mm_log.head;
  if (!usm__active || USM__IS_ERR(ret)) return ret;
  switch (nr) {
    case SYS_mmap:
      identity((uint64_t)ret, USM__PAGE_UP((uint64_t)ret + (uint64_t)a2), prot_to_perm(a3, user));
      break;
    case SYS_munmap:
      unmap_both((uint64_t)a1, USM__PAGE_UP((uint64_t)a2));
      break;
    case SYS_mprotect:
      identity((uint64_t)a1, USM__PAGE_UP((uint64_t)a1 + (uint64_t)a2), prot_to_perm(a3, user));
      break;
    case SYS_mremap: {
      usm_pte_t *e = 0;
      int perm = USM_PERM_RW;
      if (usm_vm_lookup(usm_root, (void *)a1, 0, &e) >= 0 && e && (*e & USM_PTE_P)) perm = usm_pte_to_perm(*e);
      perm &= ~(USM_PERM_G | USM_PERM_COW | USM_PERM_USR);
      if ((uint64_t)ret != (uint64_t)a1 || (uint64_t)a3 < (uint64_t)a2) unmap_both((uint64_t)a1, USM__PAGE_UP((uint64_t)a2));
      identity((uint64_t)ret, USM__PAGE_UP((uint64_t)ret + (uint64_t)a3), perm);
      break;
    }
    case SYS_brk: {
      uint64_t old = usm__brk_cur, cur = (uint64_t)ret;
      if (USM__PAGE_UP(cur) > USM__PAGE_UP(old)) identity(USM__PAGE_UP(old), USM__PAGE_UP(cur), prot_to_perm(PROT_READ | PROT_WRITE, user));
      else if (USM__PAGE_UP(cur) < USM__PAGE_UP(old)) unmap_both(USM__PAGE_UP(cur), USM__PAGE_UP(old) - USM__PAGE_UP(cur));
      usm__brk_cur = cur;
      break;
    }
  }
  return ret;
}

long usm__ksyscall(struct usm__ksys *r) {
  usm__lstar_kcalls++;
  return usm__syscall_mm((long)r->rax, (long)r->rdi, (long)r->rsi, (long)r->rdx, (long)r->r10, (long)r->r8, (long)r->r9, 0);
}

/* ---- /proc/self/maps ------------------------------------------------------------------------ */

static char maps_buf[65536];

static uint64_t parse_hex(const char **p) {
  uint64_t v = 0;
  for (;;) {
    char c = **p;
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else break;
    v = v * 16 + (uint64_t)d;
    (*p)++;
  }
  return v;
}

static int parse_line(const char *s, const char *end, struct usm_procmap_entry *e) {
  const char *p = s;
  e->begin = parse_hex(&p);
  if (p >= end || *p != '-') return -1;
  p++;
  e->end = parse_hex(&p);
  if (p + 5 > end || *p != ' ') return -1;
  p++;
  e->r = p[0] == 'r';
  e->w = p[1] == 'w';
  e->x = p[2] == 'x';
  e->p = p[3] == 'p';
  p += 4;
  /* offset, device, inode */
  for (int f = 0; f < 3; f++) {
    while (p < end && *p == ' ') p++;
    while (p < end && *p != ' ') p++;
  }
  while (p < end && *p == ' ') p++;
  unsigned n = 0;
  while (p < end && n < sizeof e->name - 1) e->name[n++] = *p++;
  e->name[n] = 0;
  return 0;
}

int usm_procmap_iterate(usm_procmap_fn fn, void *arg) {
  long fd = usm__raw_syscall6(SYS_open, (long)"/proc/self/maps", O_RDONLY | O_CLOEXEC, 0, 0, 0, 0);
  if (fd < 0) return (int)fd;
  /* read it all first: the callback may change the mappings */
  long len = 0;
  for (;;) {
    long n = usm__raw_syscall6(SYS_read, fd, (long)(maps_buf + len), (long)(sizeof maps_buf - 1 - (unsigned long)len), 0, 0, 0);
    if (n < 0) {
      usm__raw_syscall6(SYS_close, fd, 0, 0, 0, 0, 0);
      return (int)n;
    }
    if (n == 0) break;
    len += n;
    if ((unsigned long)len >= sizeof maps_buf - 1) break;
  }
  usm__raw_syscall6(SYS_close, fd, 0, 0, 0, 0, 0);
  const char *p = maps_buf, *end = maps_buf + len;
  while (p < end) {
    const char *nl = p;
    while (nl < end && *nl != '\n') nl++;
    struct usm_procmap_entry e;
    if (parse_line(p, nl, &e) == 0) fn(&e, arg);
    p = nl + 1;
  }
  return 0;
}

static int streq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

/* Maps the pages of [begin, end) that have no mapping yet (keeps what the application changed). */
static int map_missing(uint64_t begin, uint64_t end, int perm) {
  for (uint64_t va = begin; va < end;) {
    usm_pte_t *e = 0;
    int lvl = usm_vm_lookup(usm_root, (void *)va, 0, &e);
    if (lvl > 0 && e) { /* a large page covers it */
      uint64_t size = 1ull << (12 + 9 * lvl);
      va = (va & ~(size - 1)) + size;
      continue;
    }
    if (lvl == 0 && e && *e) {
      va += 4096;
      continue;
    }
    uint64_t run = va + 4096;
    /* extend the run while the following pages are unmapped too (cheap check on the same table) */
    while (run < end) {
      usm_pte_t *f = 0;
      int l2 = usm_vm_lookup(usm_root, (void *)run, 0, &f);
      if (l2 > 0 || (l2 == 0 && f && *f)) break;
      run += 4096;
    }
    int r = usm_vm_map_phys(usm_root, (void *)va, run - va, va, perm);
    if (r) return r;
    va = run;
  }
  return 0;
}

static int map_err;

static void map_entry(const struct usm_procmap_entry *e, void *arg) {
  (void)arg;
  if (e->begin >= 0x800000000000ull || e->end > 0x800000000000ull) return;
  /* The vDSO and its data pages are mapped like the rest: glibc calls into the vDSO (clock_gettime)
     at CPL0 too. (The legacy vsyscall page is in the kernel half, excluded above.) */
  if (streq(e->name, "[vsyscall]")) return;
  if (!e->r && !e->w && !e->x) return;
  int perm = (e->r ? USM_PERM_R : 0) | (e->w ? USM_PERM_W | USM_PERM_R : 0) | (e->x ? USM_PERM_X | USM_PERM_R : 0);
  if (usm__init_flags & USM_INIT_MAP_USER) perm |= USM_PERM_U;
  int r = map_missing(e->begin, e->end, perm);
  if (r && !map_err) map_err = r;
}

int usm__map_procmaps(void) {
  map_err = 0;
  int r = usm_procmap_iterate(map_entry, 0);
  if (r) return r;
  if (map_err) return map_err;
  /* the pool holds the page tables: never user-accessible */
  if (usm__init_flags & USM_INIT_MAP_USER) {
    uint64_t b, e;
    for (int i = 0;; i++) {
      int k = usm__page_chunk_overlaps(0, ~0ull, &b, &e, i);
      if (k < 0) break;
      if (k > 0) usm__vm_set_flags(usm_root, b, e - b, 0, USM_PTE_U);
    }
  }
  return 0;
}
