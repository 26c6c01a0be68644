// Deep recursion: 100000 non-tail frames (about 10 MB of stack would overflow; these frames are
// small), mutual recursion, Ackermann, and a recursive tree walk.
#include <stdio.h>
#include <stdlib.h>

static __attribute__((noinline)) long deep(long n) {
  volatile long local = n * 3;
  if (n == 0) return 0;
  long r = deep(n - 1);
  return r + (local & 7);
}

static int is_odd(unsigned n);
static __attribute__((noinline)) int is_even(unsigned n) { return n == 0 ? 1 : is_odd(n - 1); }
static __attribute__((noinline)) int is_odd(unsigned n) { return n == 0 ? 0 : is_even(n - 1); }

static __attribute__((noinline)) unsigned long ack(unsigned long m, unsigned long n) {
  if (m == 0) return n + 1;
  if (n == 0) return ack(m - 1, 1);
  return ack(m - 1, ack(m, n - 1));
}

static __attribute__((noinline)) long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static __attribute__((noinline)) int hanoi(int n, int from, int to, int via, int *moves) {
  if (n == 0) return 0;
  hanoi(n - 1, from, via, to, moves);
  (*moves)++;
  hanoi(n - 1, via, to, from, moves);
  return *moves;
}

int main(void) {
  volatile long n = 100000;
  printf("deep(%ld) = %ld\n", n, deep(n));
  printf("is_even(50001) = %d\n", is_even((unsigned)n / 2 + 1));
  printf("ack(2,3) = %lu, ack(3,5) = %lu\n", ack(2, 3), ack(3, 5));
  printf("fib(24) = %ld\n", fib(24));
  int moves = 0;
  printf("hanoi(16) moves = %d\n", hanoi(16, 1, 3, 2, &moves));
  return 0;
}
