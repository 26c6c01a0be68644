// SSE4.2 packed string compares on pseudo-random (seeded) operands, for every imm8 0..255 (bit 7
// is ignored by the CPU): pcmpistri pcmpistrm pcmpestri pcmpestrm, each with a register source, an
// m128 source (at any offset, across a page boundary, or ending right before a PROT_NONE page),
// the first operand in xmm0 (the mask forms overwrite it), and REX.W for the explicit-length forms.
// The instructions are generated machine code (one stub per form and imm8, built once), so every
// imm8 runs as a constant of its own instruction, as compiled code has it. Each run records ECX,
// XMM0 and the arithmetic flags (set to a random pattern before, so AF PF clearing shows), hashed
// per instruction and imm8. sse42_strings.c has string-like operands; here half the cases are
// arbitrary bytes and lengths.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t rs = 0x2545f4914f6cdd1dULL;
static uint64_t rnd64(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return rs;
}
static uint32_t rnd(uint32_t n) { return (uint32_t)((rnd64() >> 16) % n); }

static uint64_t mixv(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ULL; }

/* What a stub reads and writes (offsets used by the generated code). */
struct io {
  unsigned char a[16];   /* 0: first operand */
  unsigned char b[16];   /* 16: second operand (register forms) */
  int64_t la, lb;        /* 32, 40: rax, rdx */
  const void *bmem;      /* 48: the m128 operand */
  uint64_t rcx;          /* 56: in: garbage, out: rcx */
  uint64_t flags;        /* 64: out: RFLAGS */
  unsigned char x0[16];  /* 72: out: xmm0 */
  unsigned char x0in[16];/* 88: in: xmm0 (garbage) */
  uint64_t flagsin;      /* 104: in: RFLAGS */
};

enum { V_REG, V_MEM, V_X0, NVAR };
#define STUB 80
static unsigned char *code;
static unsigned char *stub(int op, int imm, int var, int w) { return code + ((((op * 256 + imm) * NVAR + var) * 2 + w) * STUB); }

static void build(void) {
  size_t size = (size_t)4 * 256 * NVAR * 2 * STUB;
  code = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); exit(1); }
  for (int op = 0; op < 4; op++)
    for (int imm = 0; imm < 256; imm++)
      for (int var = 0; var < NVAR; var++)
        for (int w = 0; w < 2; w++) {
          unsigned char *p = stub(op, imm, var, w);
          static const unsigned char pre[] = {
              0xf3, 0x0f, 0x6f, 0x0f,       /* movdqu xmm1, [rdi] */
              0xf3, 0x0f, 0x6f, 0x57, 0x10, /* movdqu xmm2, [rdi+16] */
              0x48, 0x8b, 0x47, 0x20,       /* mov rax, [rdi+32] */
              0x48, 0x8b, 0x57, 0x28,       /* mov rdx, [rdi+40] */
              0x48, 0x8b, 0x77, 0x30,       /* mov rsi, [rdi+48] */
              0x48, 0x8b, 0x4f, 0x38,       /* mov rcx, [rdi+56] */
              0xf3, 0x0f, 0x6f, 0x47, 0x58, /* movdqu xmm0, [rdi+88] */
              0xff, 0x77, 0x68,             /* push qword [rdi+104] */
              0x9d,                         /* popfq */
          };
          memcpy(p, pre, sizeof pre);
          if (var == V_X0) p[29] = 0x00; /* xmm0 = a */
          p += sizeof pre;
          *p++ = 0x66;
          if (w) *p++ = 0x48;
          *p++ = 0x0f; *p++ = 0x3a; *p++ = (unsigned char)(0x60 + op);
          *p++ = var == V_REG ? 0xca : var == V_MEM ? 0x0e : 0xc2; /* xmm1,xmm2 / xmm1,[rsi] / xmm0,xmm2 */
          *p++ = (unsigned char)imm;
          static const unsigned char post[] = {
              0x9c, 0x41, 0x58,             /* pushfq; pop r8 */
              0x48, 0x89, 0x4f, 0x38,       /* mov [rdi+56], rcx */
              0x4c, 0x89, 0x47, 0x40,       /* mov [rdi+64], r8 */
              0xf3, 0x0f, 0x7f, 0x47, 0x48, /* movdqu [rdi+72], xmm0 */
              0xc3,                         /* ret */
          };
          memcpy(p, post, sizeof post);
        }
  if (mprotect(code, size, PROT_READ | PROT_EXEC)) { perror("mprotect"); exit(1); }
}

/* Operands. Element k of a 16-byte vector, bytes or words. */
static void put(unsigned char *v, int words, int k, unsigned x) {
  if (words) { v[2 * k] = (unsigned char)x; v[2 * k + 1] = (unsigned char)(x >> 8); } else v[k] = (unsigned char)x;
}
static unsigned get(const unsigned char *v, int words, int k) { return words ? v[2 * k] | v[2 * k + 1] << 8 : v[k]; }

static void gen(unsigned char *a, unsigned char *b, int imm) {
  int words = imm & 1, n = words ? 8 : 16, agg = (imm >> 2) & 3;
  unsigned top = words ? 0x10000 : 0x100;
  if (rnd(4) == 0) { /* arbitrary bytes */
    for (int k = 0; k < 16; k++) { a[k] = (unsigned char)rnd64(); b[k] = (unsigned char)rnd64(); }
  } else { /* a small alphabet: matches are common */
    unsigned al[4];
    int na = 1 + rnd(4);
    for (int k = 0; k < na; k++) al[k] = rnd(3) ? 1 + rnd(top - 1) : (unsigned[]){1, 0x7f, 0x80, 0xff, 0x8000, 0x7fff, 0xffff}[rnd(words ? 7 : 4)];
    for (int k = 0; k < n; k++) { put(a, words, k, al[rnd(na)]); put(b, words, k, al[rnd(na)]); }
  }
  if (agg == 3 && rnd(2)) { /* a needle cut out of b, maybe running off its end */
    int from = rnd(n), len = 1 + rnd(n);
    for (int k = 0; k < len && k < n; k++) put(a, words, k, from + k < n ? get(b, words, from + k) : rnd(top));
    if (len < n) put(a, words, len, 0);
  }
  if (agg == 1 && rnd(2)) /* ranges around b's elements, some reversed (empty) */
    for (int k = 0; k + 1 < n; k += 2) {
      unsigned c = get(b, words, rnd(n)), lo = c > 3 ? c - rnd(4) : 0, hi = c + rnd(4) < top ? c + rnd(4) : top - 1;
      if (rnd(7) == 0) { unsigned t = lo; lo = hi; hi = t; }
      put(a, words, k, lo); put(a, words, k + 1, hi);
    }
  if (agg == 2 && rnd(2)) { memcpy(a, b, 16); if (rnd(2)) put(a, words, rnd(n), rnd(top)); }
  /* Terminators (a zero byte inside a non-zero word does not end a word string). */
  if (rnd(4)) put(a, words, rnd(3) ? rnd(n < 6 ? n : 6) : rnd(n), 0);
  if (rnd(4)) put(b, words, rnd(n), 0);
  if (rnd(5) == 0) put(b, words, rnd(n), 0);
}

static int64_t length(int w) {
  static const int64_t edge[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 100, -1, -2, -7, -8, -9, -15, -16, -17, -100,
                                 INT32_MAX, INT32_MIN, (int64_t)1 << 32, ((int64_t)1 << 32) + 3, -((int64_t)1 << 32) + 5,
                                 INT64_MAX, INT64_MIN, INT64_MIN + 3};
  int64_t v;
  switch (rnd(4)) {
    case 0: v = (int64_t)rnd64(); break;
    case 1: v = (int64_t)rnd(41) - 20; break;
    default: v = edge[rnd(sizeof edge / sizeof edge[0])]; break;
  }
  /* Without REX.W only eax/edx count: garbage above. */
  if (!w && rnd(2)) v = (int64_t)(((uint64_t)rnd64() << 32) | (uint32_t)v);
  return v;
}

int main(void) {
  static const char *NAMES[] = {"pcmpestrm", "pcmpestri", "pcmpistrm", "pcmpistri"};
  build();
  long pg = sysconf(_SC_PAGESIZE);
  unsigned char *mem = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED || mprotect(mem + 2 * pg, pg, PROT_NONE)) { perror("mmap"); return 1; }

  static uint64_t h[4][128];
  for (int op = 0; op < 4; op++)
    for (int k = 0; k < 128; k++) h[op][k] = 0xcbf29ce484222325ULL;
  struct io io;
  for (int round = 0; round < 40; round++)
    for (int imm = 0; imm < 256; imm++) {
      memset(&io, 0, sizeof io);
      gen(io.a, io.b, imm);
      /* The m128 operand: anywhere, across the page boundary, or ending at the PROT_NONE page. */
      unsigned char *m;
      switch (rnd(4)) {
        case 0: m = mem + 2 * pg - 16; break;
        case 1: m = mem + pg - 1 - rnd(15); break;
        default: m = mem + rnd(2 * pg - 16); break;
      }
      memcpy(m, io.b, 16);
      io.bmem = m;
      for (int op = 0; op < 4; op++) {
        int explicit = op < 2;
        for (int var = 0; var < NVAR; var++)
          for (int w = 0; w <= explicit; w++) {
            io.la = explicit ? length(w) : (int64_t)rnd64();
            io.lb = explicit ? length(w) : (int64_t)rnd64();
            io.rcx = rnd64();
            for (int k = 0; k < 16; k++) io.x0in[k] = (unsigned char)rnd64();
            io.flagsin = rnd64() & 0x8d5;
            ((void (*)(struct io *))stub(op, imm, var, w))(&io);
            uint64_t x = h[op][imm & 127];
            x = mixv(x, (uint64_t)io.la);
            x = mixv(x, (uint64_t)io.lb);
            x = mixv(x, io.rcx);
            x = mixv(x, io.flags & 0x8d5);
            uint64_t x0lo, x0hi;
            memcpy(&x0lo, io.x0, 8);
            memcpy(&x0hi, io.x0 + 8, 8);
            x = mixv(x, x0lo);
            x = mixv(x, x0hi);
            h[op][imm & 127] = x;
            if (round == 0 && var == V_MEM && (imm % 37 == 0 || imm == 0x0c || imm == 0x1a || imm == 0x3a))
              printf("%s imm=%02x w=%d la=%lld lb=%lld: rcx=%016llx flags=%03llx xmm0=%016llx%016llx\n", NAMES[op], imm, w,
                     (long long)io.la, (long long)io.lb, (unsigned long long)io.rcx, (unsigned long long)(io.flags & 0x8d5),
                     (unsigned long long)x0hi, (unsigned long long)x0lo);
          }
      }
    }
  for (int op = 0; op < 4; op++)
    for (int k = 0; k < 128; k++) printf("%s imm=%02x/%02x: %016llx\n", NAMES[op], k, k | 0x80, (unsigned long long)h[op][k]);
  return 0;
}
