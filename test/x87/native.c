// Differential-test oracle: runs one x87 instruction on this machine's real FPU.
//
// Each stdin line: <fxsave image, 512 bytes hex> <rflags hex> <memory, 512 bytes hex> <insn hex>
// The FPU/SSE state is loaded with fxrstor64, RFLAGS with popfq, rax points at the 512-byte
// memory buffer (16-byte aligned), the instruction runs, then the state is saved with fxsave64.
// Each stdout line: <fxsave image after> <rflags after> <rax after> <memory after>
// or "FAULT <signo>" if the instruction trapped.
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static uint8_t st_in[512] __attribute__((aligned(64)));
static uint8_t st_out[512] __attribute__((aligned(64)));
static uint8_t mem[512] __attribute__((aligned(65536))); // rax low 16 bits = 0, as emulated
static sigjmp_buf jb;

static void on_signal(int sig) { siglongjmp(jb, sig); }

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/** Parses hex into out (at most max bytes); returns bytes read, advances *p past a space. */
static int parse_hex(char **p, uint8_t *out, int max) {
  int n = 0;
  char *s = *p;
  while (*s == ' ') s++;
  while (hexval(s[0]) >= 0 && hexval(s[1]) >= 0 && n < max) {
    out[n++] = (uint8_t)(hexval(s[0]) * 16 + hexval(s[1]));
    s += 2;
  }
  *p = s;
  return n;
}

static void put_hex(const uint8_t *b, int n) {
  static const char d[] = "0123456789abcdef";
  for (int i = 0; i < n; i++) { putchar(d[b[i] >> 4]); putchar(d[b[i] & 15]); }
}

int main(void) {
  static char line[8192];
  uint8_t *code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); return 1; }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_NODEFER;
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGFPE, &sa, 0);
  sigaction(SIGILL, &sa, 0);
  sigaction(SIGBUS, &sa, 0);
  while (fgets(line, sizeof line, stdin)) {
    char *p = line;
    uint8_t flb[8];
    parse_hex(&p, st_in, 512);
    int nf = parse_hex(&p, flb, 8);
    uint64_t fl = 0;
    for (int i = 0; i < nf; i++) fl = (fl << 8) | flb[i];
    parse_hex(&p, mem, 512);
    int n = parse_hex(&p, code, 64);
    code[n] = 0xc3;
    uint64_t rax = (uint64_t)(uintptr_t)mem, flout = 0;
    int sig = sigsetjmp(jb, 1);
    if (sig) {
      printf("FAULT %d\n", sig);
      fflush(stdout);
      continue;
    }
    __asm__ volatile(
        "lea -256(%%rsp), %%rsp\n\t"
        "fxrstor64 (%[in])\n\t"
        "pushq %[fl]\n\t"
        "popfq\n\t"
        "call *%[code]\n\t"
        "pushfq\n\t"
        "popq %[flout]\n\t"
        "fxsave64 (%[out])\n\t"
        "lea 256(%%rsp), %%rsp\n\t"
        : "+a"(rax), [flout] "=&r"(flout)
        : [in] "r"(st_in), [out] "r"(st_out), [fl] "r"(fl), [code] "r"(code)
        : "memory", "cc", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
    // Leave the FPU in a sane state for the C code around.
    __asm__ volatile("fninit");
    put_hex(st_out, 512);
    printf(" %016llx %016llx ", (unsigned long long)flout, (unsigned long long)rax);
    put_hex(mem, 512);
    putchar('\n');
  }
  return 0;
}
