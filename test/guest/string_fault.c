// rep movs/stos that fault part-way: the SIGSEGV handler takes rcx/rsi/rdi from the ucontext
// (x86 leaves them at the first element not done) and jumps out; the bytes written before the
// fault are checksummed. Every width, forward and backward (DF=1), the destination or the source
// running into a PROT_NONE page, elements that straddle into it, with the first page warmed
// (usmjit's inline Wasm path then does the first part and hands over) or not. Then overlapping
// forward copies, whose pattern repeats (x86 copies element by element), and plain split stores.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static sigjmp_buf jb;
static volatile uint64_t f_rcx, f_rsi, f_rdi, f_addr;
static char *A, *B, *C; // A and C read/write, B (between them) PROT_NONE

static void on_segv(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  ucontext_t *uc = ctx;
  f_rcx = uc->uc_mcontext.gregs[REG_RCX];
  f_rsi = uc->uc_mcontext.gregs[REG_RSI];
  f_rdi = uc->uc_mcontext.gregs[REG_RDI];
  f_addr = (uint64_t)si->si_addr;
  siglongjmp(jb, 1);
}

static uint32_t sum(const char *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
  return h;
}

static void fill(void) {
  for (int i = 0; i < 4096; i++) A[i] = (char)(i * 7 + 1), C[i] = (char)(i * 13 + 5);
}

#define REP(insn, d, s, n, v, down)                                                              \
  do {                                                                                            \
    if (down) __asm__ volatile("std\n\trep " insn "\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : "a"(v) : "memory"); \
    else __asm__ volatile("rep " insn : "+D"(d), "+S"(s), "+c"(n) : "a"(v) : "memory");          \
  } while (0)

static void run(int op, int w, int down, char *d, char *s, uint64_t n) {
  uint64_t v = 0x1122334455667788ull;
  switch (op * 8 + w) {
    case 1: REP("movsb", d, s, n, v, down); break;
    case 2: REP("movsw", d, s, n, v, down); break;
    case 4: REP("movsl", d, s, n, v, down); break;
    case 8: REP("movsq", d, s, n, v, down); break;
    case 9: REP("stosb", d, s, n, v, down); break;
    case 10: REP("stosw", d, s, n, v, down); break;
    case 12: REP("stosl", d, s, n, v, down); break;
    case 16: REP("stosq", d, s, n, v, down); break;
  }
  f_rcx = n, f_rsi = (uint64_t)s, f_rdi = (uint64_t)d, f_addr = 0;
}

static long rel(uint64_t p) { return (long)(p - (uint64_t)A); }

int main(void) {
  char *m = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  A = m, B = m + 4096, C = m + 8192;
  mprotect(B, 4096, PROT_NONE);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_NODEFER;
  sigaction(SIGSEGV, &sa, 0);

  static const int widths[] = {1, 2, 4, 8};
  static const int before[] = {0, 1, 5, 100};
  int cases = 0;
  for (int op = 0; op < 2; op++)            // movs, stos
    for (int wi = 0; wi < 4; wi++)
      for (int down = 0; down < 2; down++)
        for (int side = 0; side < 1 + (op == 0); side++) // the destination or the source faults
          for (int bi = 0; bi < 4; bi++)
            for (int mis = 0; mis < 1 + (widths[wi] > 1); mis++)
              for (int warm = 0; warm < 2; warm++) {
                int w = widths[wi], k = before[bi];
                int off = mis ? w / 2 : 0; // an element straddling into B
                fill();
                // k whole elements fit before B (forward: the end of A; backward: the start of C).
                char *edge = down ? C + k * w - off : B - k * w - off;
                char *other = down ? C + 2048 : A + 1024;
                char *d = side ? other : edge, *s = side ? edge : other;
                if (warm) { volatile char t = *A; t = *C; (void)t; } // pages in the TLB
                uint64_t n = k + 10;
                if (!sigsetjmp(jb, 1)) run(op, w, down, d, s, n);
                printf("%s%d %s %s k=%d mis=%d warm=%d: rcx=%lu rsi=%ld rdi=%ld fault=%ld A=%08x C=%08x\n",
                       op ? "stos" : "movs", w, down ? "down" : "up", side ? "src" : "dst", k, mis, warm,
                       (unsigned long)f_rcx, op ? 0L : rel(f_rsi), rel(f_rdi), f_addr ? rel(f_addr) : -1L,
                       sum(A, 4096), sum(C, 4096));
                cases++;
              }

  // Overlapping forward copies: the destination inside the source repeats the first gap bytes.
  for (int w = 1; w <= 8; w *= 2)
    for (int gap = 1; gap < 24; gap += 3) {
      fill();
      char *s = A + 64, *d = A + 64 + gap;
      uint64_t n = 200 / w;
      run(0, w, 0, d, s, n);
      printf("overlap movs%d gap=%d: rcx=%lu rsi=%ld rdi=%ld A=%08x\n", w, gap, (unsigned long)f_rcx, rel(f_rsi), rel(f_rdi), sum(A, 4096));
      cases++;
    }
  // Plain stores split across into B: none of their bytes land (the store faults as a whole).
  for (int k = 1; k < 8; k++) {
    fill();
    if (!sigsetjmp(jb, 1)) *(volatile uint64_t *)(B - k) = 0x0102030405060708ull;
    printf("split mov store, %d bytes before B: fault=%ld A=%08x\n", k, rel(f_addr), sum(A, 4096));
    cases++;
  }
  printf("%d cases\n", cases);
  return 0;
}
