// exit(3) from a nested call, with an unterminated last line and atexit handlers run in reverse order.
// EXIT: 3
#include <stdio.h>
#include <stdlib.h>

static void h1(void) { printf("atexit 1\n"); }
static void h2(void) { printf("atexit 2\n"); fprintf(stderr, "stderr from atexit\n"); }

static __attribute__((noinline)) void deep(int n) {
  if (n == 0) {
    printf("leaving from depth, no newline");
    exit(3);
  }
  deep(n - 1);
  printf("never\n");
}

int main(void) {
  atexit(h1);
  atexit(h2);
  printf("start\n");
  deep(10);
}
