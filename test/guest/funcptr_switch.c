// Indirect control flow: tables of function pointers, callbacks, dense switches (jump tables),
// sparse switches (compare trees), computed goto, and indirect tail calls.
#include <stdint.h>
#include <stdio.h>

typedef long (*op_fn)(long, long);
static long f_add(long a, long b) { return a + b; }
static long f_sub(long a, long b) { return a - b; }
static long f_mul(long a, long b) { return a * b; }
static long f_xor(long a, long b) { return a ^ b; }
static long f_shl(long a, long b) { return (long)((unsigned long)a << (b & 15)); }
static long f_max(long a, long b) { return a > b ? a : b; }
static long f_min(long a, long b) { return a < b ? a : b; }
static long f_mod(long a, long b) { return b ? a % b : a; }
static op_fn table[] = {f_add, f_sub, f_mul, f_xor, f_shl, f_max, f_min, f_mod};

static __attribute__((noinline)) int dense(int x) {
  switch (x) {
  case 0: return 11;
  case 1: return 23;
  case 2: return 5;
  case 3: return 78;
  case 4: return 2;
  case 5: return 99;
  case 6: return 14;
  case 7: return 61;
  case 8: return 3;
  case 9: return 40;
  case 10: return 17;
  case 11: return 8;
  case 12: return 31;
  case 13: return 56;
  case 14: return 72;
  case 15: return 9;
  default: return -1;
  }
}

static __attribute__((noinline)) const char *dense_str(unsigned x) {
  switch (x) {
  case 'a': return "alpha";
  case 'b': return "bravo";
  case 'c': return "charlie";
  case 'd': return "delta";
  case 'e': return "echo";
  case 'f': return "foxtrot";
  case 'g': return "golf";
  case 'h': return "hotel";
  case 'i': return "india";
  case 'j': return "juliet";
  default: return "?";
  }
}

static __attribute__((noinline)) int sparse(long x) {
  switch (x) {
  case -1000000: return 1;
  case -7: return 2;
  case 0: return 3;
  case 42: return 4;
  case 1000: return 5;
  case 65536: return 6;
  case 1L << 40: return 7;
  default: return 0;
  }
}

static __attribute__((noinline)) long computed_goto(const unsigned char *prog, int n) {
  static void *labels[] = {&&l_inc, &&l_dbl, &&l_neg, &&l_sq};
  long acc = 1;
  int pc = 0;
#define NEXT() do { if (pc >= n) return acc; goto *labels[prog[pc++] & 3]; } while (0)
  NEXT();
l_inc: acc += 1; NEXT();
l_dbl: acc *= 2; NEXT();
l_neg: acc = -acc; NEXT();
l_sq: acc = (acc * acc) % 1000003; NEXT();
#undef NEXT
}

struct shape { const char *name; double (*area)(const double *); double p[2]; };
static double sq_area(const double *p) { return p[0] * p[0]; }
static double rect_area(const double *p) { return p[0] * p[1]; }
static double tri_area(const double *p) { return 0.5 * p[0] * p[1]; }

static __attribute__((noinline)) long apply(op_fn f, long a, long b) { return f(a, b); }
static __attribute__((noinline)) long tail_dispatch(int i, long a, long b) { return table[i & 7](a, b); }

int main(void) {
  volatile long seed = 12345;
  long acc = seed;
  for (int i = 0; i < 200; i++) {
    long b = (i * 37) % 101 - 50;
    acc = table[i % 8](acc, b) & 0xffffffffffL;
    acc = apply(table[(i * 5) % 8], acc, i) & 0xffffffffffL;
    acc += tail_dispatch(i * 3, acc, b) & 0xffff;
    if (i % 25 == 0) printf("i=%d acc=%ld\n", i, acc);
  }
  int ds = 0;
  for (volatile int i = -3; i < 20; i++) ds = ds * 7 + dense(i);
  printf("dense: %d\n", ds);
  for (volatile unsigned c = '_'; c <= 'l'; c++) printf("%s ", dense_str(c));
  printf("\n");
  static const long probes[] = {-1000000, -7, 0, 42, 1000, 65536, 1L << 40, 5, -8, 1L << 41};
  for (int i = 0; i < 10; i++) printf("%d", sparse(probes[i]));
  printf("\n");
  unsigned char prog[64];
  for (int i = 0; i < 64; i++) prog[i] = (unsigned char)(i * 7 + i / 3);
  printf("computed goto: %ld\n", computed_goto(prog, 64));
  struct shape shapes[] = {{"square", sq_area, {3, 0}}, {"rect", rect_area, {2, 5.5}}, {"tri", tri_area, {4, 3}}};
  for (int i = 0; i < 3; i++) printf("%s area %.2f\n", shapes[i].name, shapes[i].area(shapes[i].p));
  return 0;
}
