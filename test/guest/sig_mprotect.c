// A SIGSEGV handler that makes the faulting page accessible (mprotect) and returns: the access is
// restarted and succeeds. Write faults on read-only pages, read faults on PROT_NONE pages, faults
// from page-crossing accesses and from memcpy/memset, counted per page. The handler checks si_addr
// against the mapping and the fault kind (si_code, the error code's write bit).
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define PAGES 16
static char *base;
static long pagesz;
static volatile int faults, bad_addr, write_faults, read_faults, accerr;
static volatile int per_page[PAGES];
static int prot_after = PROT_READ | PROT_WRITE;

static void on_segv(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  char *a = si->si_addr;
  (void)sig;
  if (a < base || a >= base + PAGES * pagesz) {
    bad_addr++;
    _exit(3);
  }
  faults++;
  if (si->si_code == SEGV_ACCERR) accerr++;
  if (uc->uc_mcontext.gregs[REG_ERR] & 2) write_faults++;
  else read_faults++;
  long page = (a - base) / pagesz;
  per_page[page]++;
  mprotect(base + page * pagesz, pagesz, prot_after);
}

int main(void) {
  pagesz = sysconf(_SC_PAGESIZE);
  base = mmap(NULL, PAGES * pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  for (int i = 0; i < PAGES; i++) base[i * pagesz] = (char)i;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, NULL);

  /* 1. write to read-only pages: one fault per page, the write lands */
  mprotect(base, PAGES * pagesz, PROT_READ);
  long sum = 0;
  for (int i = 0; i < PAGES; i++) {
    base[i * pagesz + 7] = (char)(i + 100);
    sum += base[i * pagesz + 7];
  }
  printf("ro writes: faults=%d write=%d read=%d accerr=%d sum=%ld\n", faults, write_faults, read_faults, accerr, sum);

  /* 2. PROT_NONE: reads fault too, and a second access to the same page does not */
  faults = write_faults = read_faults = accerr = 0;
  for (int k = 0; k < PAGES; k++) per_page[k] = 0;
  mprotect(base, PAGES * pagesz, PROT_NONE);
  sum = 0;
  for (int i = 0; i < PAGES; i += 2) sum += base[i * pagesz] + base[i * pagesz + 1];
  printf("none reads: faults=%d write=%d read=%d accerr=%d sum=%ld\n", faults, write_faults, read_faults, accerr, sum);

  /* 3. a page-crossing 8-byte store: the fault names the second page */
  faults = 0;
  mprotect(base, 2 * pagesz, PROT_READ | PROT_WRITE);
  mprotect(base + pagesz, pagesz, PROT_READ);
  for (int k = 0; k < PAGES; k++) per_page[k] = 0;
  volatile uint64_t *cross = (uint64_t *)(base + pagesz - 4);
  *cross = 0x1122334455667788ull;
  printf("crossing store: faults=%d page0=%d page1=%d value=%llx\n", faults, per_page[0], per_page[1],
         (unsigned long long)*cross);

  /* 4. memset / memcpy over read-only pages (string instructions, SSE stores) */
  faults = 0;
  mprotect(base, PAGES * pagesz, PROT_READ);
  memset(base, 0x5a, PAGES * pagesz);
  static char src[4096 * 4];
  for (unsigned i = 0; i < sizeof src; i++) src[i] = (char)(i * 7);
  mprotect(base, PAGES * pagesz, PROT_READ);
  memcpy(base + 100, src, sizeof src);
  int ok = memcmp(base + 100, src, sizeof src) == 0 && base[0] == 0x5a && base[PAGES * pagesz - 1] == 0x5a;
  printf("memset+memcpy: faults=%d ok=%d\n", faults, ok);

  /* 5. many faults on one page: each time the handler re-protects after the write */
  faults = 0;
  int n = 0;
  for (int i = 0; i < 1000; i++) {
    mprotect(base, pagesz, PROT_READ);
    base[i % 64] = (char)i;
    n += base[i % 64] == (char)i;
  }
  printf("loop: faults=%d ok=%d bad=%d\n", faults, n, bad_addr);
  return 0;
}
