// Processes that end leave their memory dirty; usmjit hands an ended machine's memory to the
// next one (paging/frames.ts): every later process, forked or exec'd, must still find fresh
// memory zeroed (anonymous mmap, calloc, bss).
// ARGS: run
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG (4 << 20)
static char bss[1 << 20];

static unsigned long sum(const unsigned char *p, size_t n) {
  unsigned long s = 0;
  for (size_t i = 0; i < n; i++) s += p[i];
  return s;
}

static void dirty(void) {
  unsigned char *m = mmap(0, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memset(m, 0x5a, BIG);
  unsigned char *h = malloc(BIG);
  memset(h, 0xa5, BIG);
  memset(bss, 0x77, sizeof bss);
  _exit(0);
}

static int check(const char *who) {
  unsigned char *m = mmap(0, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  unsigned char *c = calloc(1, BIG); // a fresh mmap'd chunk: glibc trusts the kernel's zeroes
  printf("%s: mmap %lu calloc %lu bss %lu\n", who, sum(m, BIG), sum(c, BIG), sum((unsigned char *)bss, sizeof bss));
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "check") == 0) return check("exec'd");
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 3; i++) {
      pid_t p = fork();
      if (p == 0) dirty();
      waitpid(p, 0, 0);
    }
    fflush(stdout);
    pid_t p = fork();
    if (p == 0) { check("forked"); fflush(stdout); _exit(0); }
    waitpid(p, 0, 0);
    p = fork();
    if (p == 0) { execl("/proc/self/exe", argv[0], "check", (char *)0); _exit(127); }
    waitpid(p, 0, 0);
  }
  return check("parent");
}
