// A guest that is itself a JIT: writes machine code, runs it, rewrites it in place, runs it again.
// Checks that translations of a page are dropped when the guest writes to it.
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef int (*fn_t)(int);

static void emit_add(unsigned char *p, int k) {
  // lea eax, [rdi + k] ; ret
  p[0] = 0x8d; p[1] = 0x87; memcpy(p + 2, &k, 4); p[6] = 0xc3;
}

int main(void) {
  unsigned char *code = mmap(0, 8192, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); return 1; }
  long total = 0;
  for (int round = 0; round < 50; round++) {
    emit_add(code, round * 3);
    fn_t f = (fn_t)code;
    for (int i = 0; i < 20; i++) total += f(i);
  }
  printf("total %ld\n", total);
  // Two functions on one page; rewriting one must not break the other.
  emit_add(code + 64, 1000);
  fn_t g = (fn_t)(code + 64);
  int before = g(1);
  emit_add(code, 7);
  printf("g %d %d f %d\n", before, g(2), ((fn_t)code)(1));
  // W^X style: map read-only+exec after writing.
  mprotect(code, 8192, PROT_READ | PROT_EXEC);
  printf("after mprotect %d\n", ((fn_t)code)(10));
  return 0;
}
