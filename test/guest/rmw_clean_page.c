// Read-modify-write instructions on pages that are readable but not yet writable in usmjit's TLB
// (a MAP_SHARED file page read first stays clean until its first write, which the slow path
// marks dirty): the instruction changes a register or the flags before its store, so the store
// must not be the access that misses. Before, xchg lost the value (the instruction ran again with
// the swapped register) and adc added the carry of its own first run.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static unsigned long *map(int fd) {
  unsigned long *m = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (m == MAP_FAILED) exit(1);
  return m;
}

int main(void) {
  char path[] = "/tmp/usmjit-rmw-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 1;
  unlink(path);
  if (ftruncate(fd, 65536)) return 1;
  unsigned long *m = map(fd);
  for (int k = 0; k < 8; k++) {
    unsigned long *p = m + k * 512; // a page of its own, read before it is written
    volatile unsigned long seen = *p;
    (void)seen;
    unsigned long r = 0x1111 + k;
    __asm__ volatile("xchg %0, (%1)" : "+r"(r) : "r"(p) : "memory");
    printf("xchg %d: register %lx memory %lx\n", k, r, *p);
  }
  munmap(m, 65536);
  m = map(fd);
  for (int k = 0; k < 8; k++) {
    unsigned long *p = m + k * 512 + 8;
    volatile unsigned long seen = *p;
    (void)seen;
    __asm__ volatile("stc\n\tadcq %1, (%0)" : : "r"(p), "r"(5ul) : "memory", "cc");
    unsigned long *q = m + k * 512 + 16;
    seen = *q;
    unsigned long add = 3;
    __asm__ volatile("lock xaddq %0, (%1)" : "+r"(add) : "r"(q) : "memory");
    printf("adc %d: %lu, xadd: register %lu memory %lu\n", k, *p, add, *q);
  }
  return 0;
}
