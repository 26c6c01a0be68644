/*
 * Shared body of alu{8,16,32,64}.c and shift{8,16,32,64}.c. The including file defines BITS and
 * one of PART_ALU / PART_SHIFT.
 *
 * Every operation runs in inline asm between a popfq that loads a chosen RFLAGS value and a
 * pushfq that captures the result, followed by all 16 setcc, all 16 jcc and all 16 cmovcc, so the
 * emulator's flag evaluation is checked for each producer / consumer pair. Flags that the
 * architecture leaves undefined for an operation are masked out (and so are the conditions that
 * read them), because Intel and AMD differ there.
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#if BITS == 8
typedef uint8_t T;
typedef int8_t ST;
#define SUF "b"
#elif BITS == 16
typedef uint16_t T;
typedef int16_t ST;
#define SUF "w"
#elif BITS == 32
typedef uint32_t T;
typedef int32_t ST;
#define SUF "l"
#else
typedef uint64_t T;
typedef int64_t ST;
#define SUF "q"
#endif

#define F_CF 0x001UL
#define F_PF 0x004UL
#define F_AF 0x010UL
#define F_ZF 0x040UL
#define F_SF 0x080UL
#define F_OF 0x800UL
#define F_ALL (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

struct res {
  unsigned long long v;
  unsigned long fl;
  unsigned char cc[48];
};

/* Condition codes in encoding order; bytes 0-15 setcc, 16-31 jcc, 32-47 cmovcc. */
#define CCX(X) X(o, 0) X(no, 1) X(b, 2) X(ae, 3) X(e, 4) X(ne, 5) X(be, 6) X(a, 7) \
  X(s, 8) X(ns, 9) X(p, 10) X(np, 11) X(l, 12) X(ge, 13) X(le, 14) X(g, 15)
#define SETCC_(c, i) "set" #c " " #i "(%[p])\n\t"
#define JCC_(c, i) "movb $1," #i "+16(%[p])\n\tj" #c " 1f\n\tmovb $0," #i "+16(%[p])\n1:\n\t"
#define CMOV_(c, i) "movl $0,%k[t]\n\tcmov" #c "l %k[one],%k[t]\n\tmovb %b[t]," #i "+32(%[p])\n\t"
/* The red zone may hold the caller's locals: step over it before pushing. */
#define PROLOGUE "lea -128(%%rsp),%%rsp\n\tpushq %[fin]\n\tpopfq\n\t"
#define EPILOGUE "pushfq\n\tpopq %[f]\n\t" CCX(SETCC_) CCX(JCC_) CCX(CMOV_) "lea 128(%%rsp),%%rsp\n\t"
#define OUTS [a] "+r"(a), [f] "=&r"(f), [t] "=&r"(t)
#define COMMON_IN [fin] "r"(fin), [p] "r"(r->cc), [one] "r"(one)

static const unsigned long cc_needs[16] = {
  F_OF, F_OF, F_CF, F_CF, F_ZF, F_ZF, F_CF | F_ZF, F_CF | F_ZF,
  F_SF, F_SF, F_PF, F_PF, F_SF | F_OF, F_SF | F_OF, F_ZF | F_SF | F_OF, F_ZF | F_SF | F_OF,
};

static unsigned long long total;

static void report(const char *name, unsigned long long a, unsigned long long b, unsigned long fin,
                   const struct res *r, unsigned long defined) {
  unsigned m[3] = {0, 0, 0};
  for (int k = 0; k < 3; k++)
    for (int i = 0; i < 16; i++)
      if ((cc_needs[i] & defined) == cc_needs[i] && r->cc[k * 16 + i]) m[k] |= 1u << i;
  unsigned long fl = r->fl & defined;
  printf("%-5s %llx,%llx fin=%03lx -> %llx fl=%03lx set=%04x j=%04x cmov=%04x\n", name, a, b, fin, r->v, fl,
         m[0], m[1], m[2]);
  total = total * 1000003ULL + r->v + fl * 7 + m[0] * 31 + m[1] * 131 + m[2] * 1031;
}

static const unsigned long fins[2] = {0x002, 0x002 | F_ALL};

#if BITS == 8
static volatile T vals[] = {0, 1, 2, 0x0f, 0x10, 0x3c, 0x55, 0x7e, 0x7f, 0x80, 0x81, 0xaa, 0xfe, 0xff};
#elif BITS == 16
static volatile T vals[] = {0, 1, 2, 0x00ff, 0x0100, 0x1234, 0x5555, 0x7ffe, 0x7fff, 0x8000, 0x8001, 0xaaaa, 0xfffe, 0xffff};
#elif BITS == 32
static volatile T vals[] = {0, 1, 2, 0xff, 0xffff, 0x12345678, 0x55555555, 0x7ffffffe, 0x7fffffff, 0x80000000,
                            0x80000001, 0xaaaaaaaa, 0xfffffffe, 0xffffffff};
#else
static volatile T vals[] = {0, 1, 2, 0xffffffffULL, 0x100000000ULL, 0x123456789abcdef0ULL, 0x5555555555555555ULL,
                            0x7ffffffffffffffeULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
                            0x8000000000000001ULL, 0xaaaaaaaaaaaaaaaaULL, 0xfffffffffffffffeULL,
                            0xffffffffffffffffULL};
#endif
#define NV ((int)(sizeof vals / sizeof vals[0]))

#ifdef PART_ALU

#define BIN(fn, insn)                                                                               \
  static __attribute__((noinline)) void fn(T a, T b, unsigned long fin, struct res *r) {           \
    unsigned long f, t;                                                                             \
    unsigned one = 1;                                                                               \
    __asm__ volatile(PROLOGUE insn SUF " %[b],%[a]\n\t" EPILOGUE : OUTS : [b] "r"(b), COMMON_IN     \
                     : "cc", "memory");                                                             \
    r->v = a;                                                                                       \
    r->fl = f;                                                                                      \
  }
BIN(op_add, "add")
BIN(op_adc, "adc")
BIN(op_sub, "sub")
BIN(op_sbb, "sbb")
BIN(op_and, "and")
BIN(op_or, "or")
BIN(op_xor, "xor")
BIN(op_cmp, "cmp")
BIN(op_test, "test")

/* Same operations with a memory destination. */
#define BINM(fn, insn)                                                                              \
  static __attribute__((noinline)) void fn(T a, T b, unsigned long fin, struct res *r) {           \
    unsigned long f, t;                                                                             \
    unsigned one = 1;                                                                               \
    volatile T cell = a;                                                                            \
    T *cp = (T *)&cell;                                                                             \
    __asm__ volatile(PROLOGUE insn SUF " %[b],(%[cp])\n\t" EPILOGUE                                 \
                     : OUTS : [b] "r"(b), [cp] "r"(cp), COMMON_IN : "cc", "memory");                \
    r->v = cell;                                                                                    \
    r->fl = f;                                                                                      \
  }
BINM(opm_add, "add")
BINM(opm_sbb, "sbb")
BINM(opm_xor, "xor")
BINM(opm_cmp, "cmp")

/* Immediate forms (sign-extended imm8 and a larger immediate where the width allows). */
#define BINI(fn, insn, imm)                                                                         \
  static __attribute__((noinline)) void fn(T a, unsigned long fin, struct res *r) {                \
    unsigned long f, t;                                                                             \
    unsigned one = 1;                                                                               \
    __asm__ volatile(PROLOGUE insn SUF " $" #imm ",%[a]\n\t" EPILOGUE : OUTS : COMMON_IN            \
                     : "cc", "memory");                                                             \
    r->v = a;                                                                                       \
    r->fl = f;                                                                                      \
  }
BINI(opi_add_m1, "add", -1)
BINI(opi_sub_5, "sub", 5)
BINI(opi_cmp_m128, "cmp", -128)
BINI(opi_and_7f, "and", 0x7f)
BINI(opi_adc_1, "adc", 1)
#if BITS >= 16
BINI(opi_add_big, "add", 0x1234)
BINI(opi_cmp_big, "cmp", 0x7fff)
#endif

#define UN(fn, insn)                                                                                \
  static __attribute__((noinline)) void fn(T a, unsigned long fin, struct res *r) {                \
    unsigned long f, t;                                                                             \
    unsigned one = 1;                                                                               \
    __asm__ volatile(PROLOGUE insn SUF " %[a]\n\t" EPILOGUE : OUTS : COMMON_IN : "cc", "memory");   \
    r->v = a;                                                                                       \
    r->fl = f;                                                                                      \
  }
UN(op_inc, "inc")
UN(op_dec, "dec")
UN(op_neg, "neg")
UN(op_not, "not")

/* C-level comparisons: gcc's own cmp/test + setcc/cmov/jcc code on volatile inputs. */
static __attribute__((noinline)) int branchy(T a, T b) {
  ST sa = (ST)a, sb = (ST)b;
  int r = 0;
  if (a < b) r += 1;
  if (a <= b) r += 2;
  if (a > b) r += 4;
  if (a >= b) r += 8;
  if (a == b) r += 16;
  if (a != b) r += 32;
  if (sa < sb) r += 64;
  if (sa <= sb) r += 128;
  if (sa > sb) r += 256;
  if (sa >= sb) r += 512;
  if ((T)(a & b) == 0) r += 1024;
  if (sa < 0) r += 2048;
  if ((T)(a + b) < a) r += 4096;               /* unsigned carry */
  if (__builtin_add_overflow(sa, sb, &(ST){0})) r += 8192;
  if (__builtin_sub_overflow(sa, sb, &(ST){0})) r += 16384;
  if (__builtin_mul_overflow(sa, sb, &(ST){0})) r += 32768;
  return r;
}

static void c_level(void) {
  unsigned long long h = 0;
  for (int i = 0; i < NV; i++)
    for (int j = 0; j < NV; j++) {
      T a = vals[i], b = vals[j];
      ST sa = (ST)a, sb = (ST)b;
      unsigned m = (a < b) | (a <= b) << 1 | (a > b) << 2 | (a >= b) << 3 | (a == b) << 4 | (a != b) << 5 |
                   (sa < sb) << 6 | (sa <= sb) << 7 | (sa > sb) << 8 | (sa >= sb) << 9;
      T umin = a < b ? a : b, umax = a > b ? a : b;
      ST smin = sa < sb ? sa : sb, smax = sa > sb ? sa : sb;
      T sel = (sa < 0) ? (T)(a ^ b) : (T)(a - b);
      int br = branchy(a, b);
      printf("cmp %llx,%llx m=%03x br=%04x umin=%llx umax=%llx smin=%lld smax=%lld sel=%llx\n",
             (unsigned long long)a, (unsigned long long)b, m, br, (unsigned long long)umin,
             (unsigned long long)umax, (long long)smin, (long long)smax, (unsigned long long)sel);
      h = h * 31 + m + br + umin + umax + sel;
    }
  printf("c-level hash %llx\n", h);
}

int main(void) {
  struct res r;
  for (int fi = 0; fi < 2; fi++) {
    unsigned long fin = fins[fi];
    for (int i = 0; i < NV; i++) {
      T a = vals[i];
      for (int j = 0; j < NV; j++) {
        T b = vals[j];
        op_add(a, b, fin, &r); report("add", a, b, fin, &r, F_ALL);
        op_adc(a, b, fin, &r); report("adc", a, b, fin, &r, F_ALL);
        op_sub(a, b, fin, &r); report("sub", a, b, fin, &r, F_ALL);
        op_sbb(a, b, fin, &r); report("sbb", a, b, fin, &r, F_ALL);
        op_and(a, b, fin, &r); report("and", a, b, fin, &r, F_ALL & ~F_AF);
        op_or(a, b, fin, &r); report("or", a, b, fin, &r, F_ALL & ~F_AF);
        op_xor(a, b, fin, &r); report("xor", a, b, fin, &r, F_ALL & ~F_AF);
        op_cmp(a, b, fin, &r); report("cmp", a, b, fin, &r, F_ALL);
        op_test(a, b, fin, &r); report("test", a, b, fin, &r, F_ALL & ~F_AF);
        if ((i + j) % 3 == 0) {
          opm_add(a, b, fin, &r); report("addm", a, b, fin, &r, F_ALL);
          opm_sbb(a, b, fin, &r); report("sbbm", a, b, fin, &r, F_ALL);
          opm_xor(a, b, fin, &r); report("xorm", a, b, fin, &r, F_ALL & ~F_AF);
          opm_cmp(a, b, fin, &r); report("cmpm", a, b, fin, &r, F_ALL);
        }
      }
      op_inc(a, fin, &r); report("inc", a, 0, fin, &r, F_ALL);
      op_dec(a, fin, &r); report("dec", a, 0, fin, &r, F_ALL);
      op_neg(a, fin, &r); report("neg", a, 0, fin, &r, F_ALL);
      op_not(a, fin, &r); report("not", a, 0, fin, &r, F_ALL);
      opi_add_m1(a, fin, &r); report("addi", a, (T)-1, fin, &r, F_ALL);
      opi_sub_5(a, fin, &r); report("subi", a, 5, fin, &r, F_ALL);
      opi_cmp_m128(a, fin, &r); report("cmpi", a, (T)-128, fin, &r, F_ALL);
      opi_and_7f(a, fin, &r); report("andi", a, 0x7f, fin, &r, F_ALL & ~F_AF);
      opi_adc_1(a, fin, &r); report("adci", a, 1, fin, &r, F_ALL);
#if BITS >= 16
      opi_add_big(a, fin, &r); report("addI", a, 0x1234, fin, &r, F_ALL);
      opi_cmp_big(a, fin, &r); report("cmpI", a, 0x7fff, fin, &r, F_ALL);
#endif
    }
  }
  c_level();
  printf("alu%d total %llx\n", BITS, total);
  return 0;
}
#endif /* PART_ALU */

#ifdef PART_SHIFT

#define SHCL(fn, insn)                                                                              \
  static __attribute__((noinline)) void fn(T a, unsigned char c, unsigned long fin, struct res *r) { \
    unsigned long f, t;                                                                             \
    unsigned one = 1;                                                                               \
    __asm__ volatile(PROLOGUE insn SUF " %%cl,%[a]\n\t" EPILOGUE : OUTS : "c"(c), COMMON_IN         \
                     : "cc", "memory");                                                             \
    r->v = a;                                                                                       \
    r->fl = f;                                                                                      \
  }
SHCL(op_shl, "shl")
SHCL(op_shr, "shr")
SHCL(op_sar, "sar")
SHCL(op_rol, "rol")
SHCL(op_ror, "ror")
SHCL(op_rcl, "rcl")
SHCL(op_rcr, "rcr")

#define SHI(fn, insn, n)                                                                            \
  static __attribute__((noinline)) void fn(T a, unsigned long fin, struct res *r) {                \
    unsigned long f, t;                                                                             \
    unsigned one = 1;                                                                               \
    __asm__ volatile(PROLOGUE insn SUF " $" #n ",%[a]\n\t" EPILOGUE : OUTS : COMMON_IN              \
                     : "cc", "memory");                                                             \
    r->v = a;                                                                                       \
    r->fl = f;                                                                                      \
  }
/* $1 assembles to the D0/D1 (shift-by-one) encoding, others to C0/C1 imm8. */
SHI(opi_shl1, "shl", 1)
SHI(opi_shr1, "shr", 1)
SHI(opi_sar1, "sar", 1)
SHI(opi_rol1, "rol", 1)
SHI(opi_ror1, "ror", 1)
SHI(opi_rcl1, "rcl", 1)
SHI(opi_rcr1, "rcr", 1)
SHI(opi_shl3, "shl", 3)
SHI(opi_shr3, "shr", 3)
SHI(opi_sar3, "sar", 3)
SHI(opi_rol3, "rol", 3)
SHI(opi_ror3, "ror", 3)
SHI(opi_rcl3, "rcl", 3)
SHI(opi_rcr3, "rcr", 3)

#if BITS >= 16
#define SHD(fn, insn)                                                                               \
  static __attribute__((noinline)) void fn(T a, T b, unsigned char c, unsigned long fin, struct res *r) { \
    unsigned long f, t;                                                                             \
    unsigned one = 1;                                                                               \
    __asm__ volatile(PROLOGUE insn SUF " %%cl,%[b],%[a]\n\t" EPILOGUE                               \
                     : OUTS : [b] "r"(b), "c"(c), COMMON_IN : "cc", "memory");                      \
    r->v = a;                                                                                       \
    r->fl = f;                                                                                      \
  }
SHD(op_shld, "shld")
SHD(op_shrd, "shrd")
#endif

#define MASKED(c) ((c) & (BITS == 64 ? 63 : 31))

/* Which flags are defined after a shift/rotate by count c (the raw count in cl). */
static unsigned long shift_defined(int is_shl_shr, unsigned c) {
  unsigned m = MASKED(c);
  if (m == 0) return F_ALL; /* nothing changes */
  unsigned long d = F_CF | F_PF | F_ZF | F_SF | F_OF;
  if (m != 1) d &= ~F_OF;
  if (is_shl_shr && m >= BITS) d &= ~F_CF;
  return d;
}
static unsigned long rot_defined(unsigned c, int through_carry) {
  unsigned m = MASKED(c);
  if (m == 0) return F_ALL;
  unsigned long d = F_ALL; /* only CF and OF may change */
  if (m != 1) d &= ~F_OF;
  if (!through_carry && BITS < 32 && m % BITS == 0) d &= ~(F_CF | F_OF); /* vendors differ */
  return d;
}

static const unsigned char counts[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 200, 255};
#define NC ((int)sizeof counts)

static void c_level(void) {
  unsigned long long h = 0;
  for (int i = 0; i < NV; i++)
    for (int k = 0; k < BITS; k += (k < 3 ? 1 : 5)) {
      volatile int vk = k;
      int c = vk;
      T a = vals[i];
      T l = (T)(a << c), rr = (T)(a >> c);
      ST s = (ST)((ST)a >> c);
      T rot = (T)((a << c) | (a >> ((BITS - c) & (BITS - 1))));
      h = h * 1000003ULL + l + rr * 3 + (T)s * 5 + rot * 7;
      printf("c %llx<<>>%d: %llx %llx %lld %llx\n", (unsigned long long)a, c, (unsigned long long)l,
             (unsigned long long)rr, (long long)s, (unsigned long long)rot);
    }
  printf("c-level hash %llx\n", h);
}

int main(void) {
  struct res r;
  for (int fi = 0; fi < 2; fi++) {
    unsigned long fin = fins[fi];
    for (int i = 0; i < NV; i++) {
      T a = vals[i];
      for (int k = 0; k < NC; k++) {
        unsigned c = counts[k];
        op_shl(a, c, fin, &r); report("shl", a, c, fin, &r, shift_defined(1, c));
        op_shr(a, c, fin, &r); report("shr", a, c, fin, &r, shift_defined(1, c));
        op_sar(a, c, fin, &r); report("sar", a, c, fin, &r, shift_defined(0, c));
        op_rol(a, c, fin, &r); report("rol", a, c, fin, &r, rot_defined(c, 0));
        op_ror(a, c, fin, &r); report("ror", a, c, fin, &r, rot_defined(c, 0));
        op_rcl(a, c, fin, &r); report("rcl", a, c, fin, &r, rot_defined(c, 1));
        op_rcr(a, c, fin, &r); report("rcr", a, c, fin, &r, rot_defined(c, 1));
#if BITS >= 16
        /* shld/shrd: counts above the operand size give undefined results for 16 bits. */
        if (BITS > 16 || MASKED(c) < 16) {
          T b = vals[(i * 5 + k) % NV];
          unsigned long d = shift_defined(0, c);
          op_shld(a, b, c, fin, &r); report("shld", a, ((unsigned long long)b << 8) | c, fin, &r, d);
          op_shrd(a, b, c, fin, &r); report("shrd", a, ((unsigned long long)b << 8) | c, fin, &r, d);
        }
#endif
      }
      opi_shl1(a, fin, &r); report("shl1", a, 1, fin, &r, shift_defined(1, 1));
      opi_shr1(a, fin, &r); report("shr1", a, 1, fin, &r, shift_defined(1, 1));
      opi_sar1(a, fin, &r); report("sar1", a, 1, fin, &r, shift_defined(0, 1));
      opi_rol1(a, fin, &r); report("rol1", a, 1, fin, &r, rot_defined(1, 0));
      opi_ror1(a, fin, &r); report("ror1", a, 1, fin, &r, rot_defined(1, 0));
      opi_rcl1(a, fin, &r); report("rcl1", a, 1, fin, &r, rot_defined(1, 1));
      opi_rcr1(a, fin, &r); report("rcr1", a, 1, fin, &r, rot_defined(1, 1));
      opi_shl3(a, fin, &r); report("shl3", a, 3, fin, &r, shift_defined(1, 3));
      opi_shr3(a, fin, &r); report("shr3", a, 3, fin, &r, shift_defined(1, 3));
      opi_sar3(a, fin, &r); report("sar3", a, 3, fin, &r, shift_defined(0, 3));
      opi_rol3(a, fin, &r); report("rol3", a, 3, fin, &r, rot_defined(3, 0));
      opi_ror3(a, fin, &r); report("ror3", a, 3, fin, &r, rot_defined(3, 0));
      opi_rcl3(a, fin, &r); report("rcl3", a, 3, fin, &r, rot_defined(3, 1));
      opi_rcr3(a, fin, &r); report("rcr3", a, 3, fin, &r, rot_defined(3, 1));
    }
  }
  c_level();
  printf("shift%d total %llx\n", BITS, total);
  return 0;
}
#endif /* PART_SHIFT */
