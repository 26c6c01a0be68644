// Memory accesses that miss the TLB in regions with their registers in Wasm locals leave the
// region (Exit.Miss), the dispatcher fills the TLB and the instruction runs again
// (jit/emitter.ts EmitHost.missExit). Each hot loop here makes such code meet one kind of miss:
// fresh pages streamed over, page-crossing accesses no TLB entry can serve, a write to a page
// holding translated code, and a fault whose handler must see the exact registers.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// Fresh memory, one page after another: every page is a first touch.
__attribute__((noinline)) static uint64_t stream(size_t n) {
  uint8_t *b = malloc(n);
  uint64_t x = 7, s = 0;
  for (size_t i = 0; i < n; i++) { x = x * 6364136223846793005ull + 1; b[i] = (uint8_t)(x >> 56); }
  for (size_t i = 0; i < n; i += 64) s = s * 31 + b[i];
  free(b);
  return s;
}

// 8-byte loads and stores that straddle a page boundary, in a loop hot enough to be promoted.
__attribute__((noinline)) static uint64_t straddle(int rounds) {
  uint8_t *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  uint64_t h = 1;
  for (int r = 0; r < rounds; r++)
    for (int k = 1; k < 8; k++) {
      uint64_t v;
      memcpy(&v, p + 4096 - k, 8);
      h = (h ^ v) * 1099511628211ull + (uint64_t)r;
      memcpy(p + 2 * 4096 - k, &h, 8);
      memcpy(p + 4096 - k, &h, 8);
    }
  munmap(p, 3 * 4096);
  return h;
}

// A function copied into a writable, executable page, then data written beside it in a hot loop
// (writes to a page of translated code), then the function rewritten and called again.
typedef int (*fn_t)(int);
static const uint8_t ret_plus[] = {0x8d, 0x47, 0x01, 0xc3};  // lea eax, [rdi+1]; ret
static const uint8_t ret_times[] = {0x8d, 0x04, 0x3f, 0xc3}; // lea eax, [rdi+rdi]; ret
__attribute__((noinline)) static uint64_t code_page(int rounds) {
  uint8_t *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memcpy(p, ret_plus, sizeof ret_plus);
  fn_t f = (fn_t)(void *)p;
  uint64_t s = 0;
  volatile uint32_t *data = (volatile uint32_t *)(p + 2048);
  for (int r = 0; r < rounds; r++) {
    s += (uint64_t)f(r);
    data[r & 255] = (uint32_t)s;
  }
  memcpy(p, ret_times, sizeof ret_times);
  __builtin___clear_cache((char *)p, (char *)p + 4);
  for (int r = 0; r < 1000; r++) s += (uint64_t)f(r);
  munmap(p, 4096);
  return s;
}

// A hot loop that runs off the end of its mapping: SIGSEGV at the first byte past it, with the
// loop's registers as they were at the faulting load.
static sigjmp_buf jb;
static volatile uint64_t seen_addr, seen_sum;
static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)sig; (void)uc;
  seen_addr = (uint64_t)si->si_addr;
  siglongjmp(jb, 1);
}
__attribute__((noinline)) static uint64_t sum_until_fault(const uint64_t *a) {
  uint64_t s = 0;
  for (size_t i = 0;; i++) { s = s * 3 + a[i]; seen_sum = s; }
  return s;
}
static void fault(void) {
  size_t n = 64 * 4096;
  uint8_t *p = mmap(NULL, n + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(p + n, 4096);
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(i * 7);
  struct sigaction sa = {0};
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  if (sigsetjmp(jb, 1) == 0) sum_until_fault((const uint64_t *)p);
  printf("fault at +%lld, sum %016llx\n", (long long)(seen_addr - (uint64_t)p), (unsigned long long)seen_sum);
  munmap(p, n);
}

// `push qword [p]` where p's page and the stack's share a TLB entry (65,536 pages apart): the load
// and the store would evict each other at every retry of the instruction.
__attribute__((noinline)) static uint64_t alias_push(void) {
  uint64_t sp;
  __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
  uint64_t page = (sp - 64) & ~0xfffull;
  for (uint64_t k = 1; k < 64; k++) {
    uint64_t at = page - k * (65536ull << 12);
    void *p = mmap((void *)at, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p == MAP_FAILED) continue;
    if ((uint64_t)p != at) { munmap(p, 4096); continue; }
    volatile uint64_t *q = p;
    uint64_t s = 0;
    for (int i = 0; i < 1000; i++) {
      q[i & 7] = (uint64_t)i * 3;
      uint64_t v;
      __asm__ volatile("pushq (%1)\n\tpopq %0" : "=r"(v) : "r"(q + (i & 7)) : "memory");
      s += v;
    }
    munmap(p, 4096);
    return s;
  }
  return 0; // no free page at such a distance
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 400000;
  printf("stream %016llx\n", (unsigned long long)stream((size_t)16 << 20));
  printf("straddle %016llx\n", (unsigned long long)straddle(rounds));
  printf("code page %llu\n", (unsigned long long)code_page(300));
  printf("alias push %llu\n", (unsigned long long)alias_push());
  fault();
  return 0;
}
