/* Flags read where the producing instruction's kind is not known when the reader is translated
 * (jit/flags.ts emitCFOfAnyKind, emitAllFlagsOfAnyKind): read_cf_dec, read_cf_adc and
 * read_flags_bt are entered from call sites that each leave the flags of a different producer
 * (every lazy-flag kind, every operand size), and read CF through `dec` (which keeps CF) then
 * setc or through `adc $0`, and all six flags through `bt` (which keeps all but CF) then pushf
 * (an 8- or 16-bit sar by more than its size shifts out sign bits: its CF needs the producer's
 * size at run time). read_flags_bsf checks bsf's flags, which on this machine's CPU do not
 * depend on the earlier ones. Flags the SDM leaves undefined (OF of a shl by more than 1, ZF
 * of mul) are as this machine's CPU sets them. Prints one line per producer; the test compares
 * it with the native run. */
#include <stdint.h>
#include <stdio.h>

__asm__(".text\n"
        "read_cf_dec:\n"
        "  dec %rdi\n"
        "  setc %al\n"
        "  movzbl %al, %eax\n"
        "  ret\n"
        "read_cf_adc:\n"
        "  mov $0, %eax\n"
        "  adc $0, %eax\n"
        "  ret\n"
        "read_flags_bt:\n"
        "  bt $0, %rdi\n"
        "  pushfq\n"
        "  pop %rax\n"
        "  and $0x8d5, %eax\n"
        "  ret\n"
        "read_flags_bsf:\n"
        "  bsf %rdi, %rsi\n"
        "  pushfq\n"
        "  pop %rax\n"
        "  and $0x8d5, %eax\n"
        "  ret\n");

/* The producer runs on rdx (a) and rcx (b) (rdi = b too, the bit bt tests and the source bsf
 * scans), then the call to read_<reader>: nothing in between touches the flags (lea moves rsp past
 * the red zone without setting them). */
#define CALLER(name, insn, reader)                                                                   \
  static unsigned name##_##reader(uint64_t a, uint64_t b) {                                         \
    unsigned r;                                                                                      \
    __asm__ volatile("lea -128(%%rsp), %%rsp\n\tmov %1, %%rdx\n\tmov %2, %%rcx\n\tmov %2, %%rdi\n\t" \
                     insn "\n\tcall read_" #reader "\n\tlea 128(%%rsp), %%rsp"                       \
                     : "=a"(r) : "r"(a), "r"(b)                                                      \
                     : "rcx", "rdx", "rdi", "rsi", "r8", "r9", "r10", "r11", "memory", "cc");       \
    return r;                                                                                        \
  }
#define PRODUCER(name, insn) \
  CALLER(name, insn, cf_dec) CALLER(name, insn, cf_adc) CALLER(name, insn, flags_bt) CALLER(name, insn, flags_bsf)

PRODUCER(add64, "add %%rcx, %%rdx")
PRODUCER(add32, "add %%ecx, %%edx")
PRODUCER(add8, "add %%cl, %%dl")
PRODUCER(adc64, "stc\n\tadc %%rcx, %%rdx")
PRODUCER(adc16, "stc\n\tadc %%cx, %%dx")
PRODUCER(sub64, "sub %%rcx, %%rdx")
PRODUCER(sub32, "cmp %%ecx, %%edx")
PRODUCER(sub8, "sub %%cl, %%dl")
PRODUCER(sbb64, "stc\n\tsbb %%rcx, %%rdx")
PRODUCER(sbb8, "stc\n\tsbb %%cl, %%dl")
PRODUCER(logic64, "and %%rcx, %%rdx")
PRODUCER(logic8, "stc\n\txor %%cl, %%dl")
PRODUCER(inc_cf1, "stc\n\tinc %%rdx")
PRODUCER(dec_cf0, "clc\n\tdec %%edx")
PRODUCER(shl8, "shlb $3, %%dl")
PRODUCER(shl16, "shlw $9, %%dx")
PRODUCER(shl32, "shll $17, %%edx")
PRODUCER(shl64, "shlq $40, %%rdx")
PRODUCER(shr8, "shrb $2, %%dl")
PRODUCER(shr64, "shrq $33, %%rdx")
PRODUCER(sar8, "sarb $7, %%dl")
PRODUCER(sar16, "sarw $5, %%dx")
PRODUCER(sar8_wide, "sarb $12, %%dl")
PRODUCER(sar16_wide, "sarw $20, %%dx")
PRODUCER(sar32, "sarl $31, %%edx")
PRODUCER(sar64, "sarq $63, %%rdx")
PRODUCER(mul64, "mov %%rdx, %%rax\n\tmul %%rcx")
PRODUCER(imul32, "imul %%ecx, %%edx")
PRODUCER(shrd64, "shrd $1, %%rcx, %%rdx") /* (OF of a wider shrd: see flags.ts) */
PRODUCER(stc, "stc")
PRODUCER(cmc, "clc\n\tcmc")
PRODUCER(bt, "bt $5, %%rdx")

typedef unsigned (*fn)(uint64_t, uint64_t);
static const struct { const char *name; fn dec, adc, bt, bsf; } producers[] = {
#define P(n) {#n, n##_cf_dec, n##_cf_adc, n##_flags_bt, n##_flags_bsf}
  P(add64), P(add32), P(add8), P(adc64), P(adc16), P(sub64), P(sub32), P(sub8), P(sbb64), P(sbb8),
  P(logic64), P(logic8), P(inc_cf1), P(dec_cf0), P(shl8), P(shl16), P(shl32), P(shl64), P(shr8),
  P(shr64), P(sar8), P(sar16), P(sar8_wide), P(sar16_wide), P(sar32), P(sar64), P(mul64), P(imul32), P(shrd64), P(stc), P(cmc), P(bt),
};

static uint64_t state = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
  state ^= state << 13;
  state ^= state >> 7;
  state ^= state << 17;
  return state;
}

int main(void) {
  /* Edge operands first (carries and borrows at every size), then seeded random ones. */
  static const uint64_t edge[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000,
                                  0xffffffff, 0x7fffffffffffffffull, 0x8000000000000000ull, ~0ull};
  const int nedge = sizeof edge / sizeof edge[0];
  for (unsigned p = 0; p < sizeof producers / sizeof producers[0]; p++) {
    uint64_t h = 0;
    unsigned ones = 0;
    for (int k = 0; k < nedge * nedge + 400; k++) {
      uint64_t a = k < nedge * nedge ? edge[k / nedge] : next();
      uint64_t b = k < nedge * nedge ? edge[k % nedge] : next();
      unsigned c1 = producers[p].dec(a, b), c2 = producers[p].adc(a, b);
      h = h * 31 + c1 * 2 + c2;
      ones += c1 + c2;
      /* All six flags through bt and bsf (which keep the others: they need them all). */
      h = h * 4099 + producers[p].bt(a, b);
      h = h * 4099 + producers[p].bsf(a, b);
    }
    printf("%-8s cf=1 %u times, hash %016llx\n", producers[p].name, ones, (unsigned long long)h);
  }
  return 0;
}
