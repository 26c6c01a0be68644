// Flags the SDM leaves undefined, as this machine's CPU sets them (jit/flags.ts; isa/bits.ts):
// OF after a shl/shld/shrd or a rotate by more than one bit, the flags of an 8- or 16-bit rcl/rcr
// by a multiple of 9 or 17 (it rotates nothing), a 16-bit shld/shrd by more than 16 (result and
// flags), the flags of bsf/bsr beyond ZF, of tzcnt/lzcnt
// beyond CF and ZF, and ZF/SF/PF/AF after mul and imul. Each line is a hash over many operands
// of the six arithmetic flags (and the result), compared with the native run.
#include <stdint.h>
#include <stdio.h>

static uint64_t state = 88172645463325252ull;
static uint64_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

#define FLAGS 0x8d5ul /* OF SF ZF AF PF CF */

/* One shift by cl: stc first, so that a flag the instruction leaves alone would show. */
#define SHIFT(h, insn, val, cnt)                                                                     \
  do {                                                                                               \
    uint64_t f_, v_ = (val);                                                                         \
    __asm__ volatile("mov %2, %%rcx\n\tstc\n\t" insn "\n\tpushfq\n\tpop %0"                          \
                     : "=r"(f_), "+r"(v_) : "r"((uint64_t)(cnt)), "r"(next()) : "rcx", "cc");        \
    (h) = (h) * 31 + (f_ & FLAGS) + v_;                                                              \
  } while (0)

/* A one-operand instruction on a source, destination preset (bsf/bsr leave it for a zero source). */
#define SCAN(h, insn, src)                                                                           \
  do {                                                                                               \
    uint64_t f_, d_ = 0x1234;                                                                        \
    __asm__ volatile("stc\n\t" insn "\n\tpushfq\n\tpop %0" : "=r"(f_), "+r"(d_) : "r"(src) : "cc");   \
    (h) = (h) * 31 + (f_ & FLAGS) + d_;                                                              \
  } while (0)

int main(void) {
  uint64_t h[25] = {0};
  for (int i = 0; i < 4000; i++) {
    uint64_t v = next();
    unsigned c = 1 + next() % 63;
    SHIFT(h[0], "shlb %%cl, %b1", v, c & 7);
    SHIFT(h[1], "shlw %%cl, %w1", v, c & 15);
    SHIFT(h[2], "shll %%cl, %k1", v, c);
    SHIFT(h[3], "shlq %%cl, %q1", v, c);
    SHIFT(h[4], "shrq %%cl, %q1", v, c);
    SHIFT(h[5], "sarl %%cl, %k1", v, c);
    SHIFT(h[6], "shldl %%cl, %k3, %k1", v, c);
    SHIFT(h[7], "shldq %%cl, %q3, %q1", v, c);
    SHIFT(h[8], "shrdw %%cl, %w3, %w1", v, c & 31);
    SHIFT(h[24], "shldw %%cl, %w3, %w1", v, c & 31);
    SHIFT(h[9], "shrdl %%cl, %k3, %k1", v, c);
    SHIFT(h[10], "shrdq %%cl, %q3, %q1", v, c);
    SHIFT(h[16], "rolb %%cl, %b1", v, c);
    SHIFT(h[17], "rolw %%cl, %w1", v, c);
    SHIFT(h[18], "rorl %%cl, %k1", v, c);
    SHIFT(h[19], "rorq %%cl, %q1", v, c);
    SHIFT(h[20], "rclb %%cl, %b1", v, c & 31);
    SHIFT(h[21], "rcrw %%cl, %w1", v, c & 31);
    SHIFT(h[22], "rcll %%cl, %k1", v, c);
    SHIFT(h[23], "rcrq %%cl, %q1", v, c);
    /* Sources with few bits set too (and zero), so that indexes and counts vary. */
    uint64_t s = (i % 3 == 0) ? 0 : (i % 3 == 1) ? (1ull << (next() % 64)) : v;
    SCAN(h[11], "bsfq %2, %1", s);
    SCAN(h[12], "bsrq %2, %1", s);
    SCAN(h[13], "tzcntq %2, %1", s);
    SCAN(h[14], "lzcntq %2, %1", s);
    {
      uint64_t f, lo = (i % 5 == 0) ? 0 : v, hi;
      __asm__ volatile("stc\n\tmulq %3\n\tpushfq\n\tpop %0" : "=r"(f), "+a"(lo), "=d"(hi) : "r"(next() >> (next() % 64)) : "cc");
      h[15] = h[15] * 31 + (f & FLAGS) + lo + hi;
      uint64_t r = (i % 7 == 0) ? 0 : v;
      __asm__ volatile("stc\n\timulq %2, %1\n\tpushfq\n\tpop %0" : "=r"(f), "+r"(r) : "r"(next() >> (next() % 64)) : "cc");
      h[15] = h[15] * 31 + (f & FLAGS) + r;
    }
  }
  static const char *names[25] = {"shl8", "shl16", "shl32", "shl64", "shr64", "sar32", "shld32", "shld64",
                                  "shrd16", "shrd32", "shrd64", "bsf", "bsr", "tzcnt", "lzcnt", "mul/imul",
                                  "rol8", "rol16", "ror32", "ror64", "rcl8", "rcr16", "rcl32", "rcr64", "shld16"};
  for (int k = 0; k < 25; k++) printf("%-8s %016llx\n", names[k], (unsigned long long)h[k]);
  return 0;
}
