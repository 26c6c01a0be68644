// Conversions between every integer width (sign and zero extension: movsx/movzx/cbw/cwde/cdqe/
// cwd/cdq/cqo), between integers and float/double (cvtsi2sd, cvttsd2si, unsigned 64-bit
// conversions that gcc expands with branches), float<->double, and the inline-asm forms.
#include <stdint.h>
#include <stdio.h>

static volatile uint64_t src[] = {0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
                                  0x123456789abcdef0ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
                                  0xffffffffffffffffULL, 0xfedcba9876543210ULL, 0x0000000100000000ULL};
static volatile double dsrc[] = {0.0, -0.0, 0.4, 0.5, 0.6, 1.5, -1.5, 2.5, -2.5, 255.9, -129.7, 65535.99, 2147483647.0,
                                 -2147483648.0, 4294967295.0, 9007199254740993.0, 1e18, -1e18, 9.2e18, 1.8e19};

int main(void) {
  unsigned long long h = 0;
  for (unsigned i = 0; i < sizeof src / sizeof src[0]; i++) {
    uint64_t v = src[i];
    int64_t s8 = (int8_t)v, s16 = (int16_t)v, s32 = (int32_t)v;
    uint64_t z8 = (uint8_t)v, z16 = (uint16_t)v, z32 = (uint32_t)v;
    int32_t s8_32 = (int8_t)v, s16_32 = (int16_t)v;
    int16_t s8_16 = (int8_t)v;
    double d = (double)(int64_t)v, du = (double)v, d32 = (double)(int32_t)v, du32 = (double)(uint32_t)v;
    float f = (float)(int64_t)v, fu = (float)v;
    printf("%016llx: sx %lld %lld %lld zx %llu %llu %llu sx32 %d %d sx16 %d | %.17g %.17g %.17g %.17g %.9g %.9g\n",
           (unsigned long long)v, (long long)s8, (long long)s16, (long long)s32, (unsigned long long)z8,
           (unsigned long long)z16, (unsigned long long)z32, s8_32, s16_32, s8_16, d, du, d32, du32, (double)f, (double)fu);
    /* the one-byte-opcode sign extensions */
    uint64_t rax = v, rdx = 0x5555;
    __asm__("cbw" : "+a"(rax));
    uint64_t r1 = rax;
    rax = v;
    __asm__("cwde" : "+a"(rax));
    uint64_t r2 = rax;
    rax = v;
    __asm__("cdqe" : "+a"(rax));
    uint64_t r3 = rax;
    rax = v;
    __asm__("cwd" : "+a"(rax), "+d"(rdx));
    uint64_t r4 = rdx;
    rdx = 0x5555;
    __asm__("cdq" : "+a"(rax), "+d"(rdx));
    uint64_t r5 = rdx;
    __asm__("cqo" : "+a"(rax), "=d"(rdx));
    uint64_t r6 = rdx;
    printf("  cbw %llx cwde %llx cdqe %llx cwd %llx cdq %llx cqo %llx\n", (unsigned long long)r1, (unsigned long long)r2,
           (unsigned long long)r3, (unsigned long long)r4, (unsigned long long)r5, (unsigned long long)r6);
    /* partial register writes: 8/16-bit writes keep the rest, 32-bit writes zero the top */
    uint64_t p = v;
    __asm__("movb $0x5a, %b0" : "+q"(p));
    uint64_t pb = p;
    p = v;
    __asm__("movw $0x1234, %w0" : "+r"(p));
    uint64_t pw = p;
    p = v;
    __asm__("movl $0x9abcdef0, %k0" : "+r"(p));
    uint64_t pl = p;
    p = v;
    __asm__("movb $0x77, %h0" : "+Q"(p));
    uint64_t ph = p;
    p = v;
    __asm__("addl $1, %k0" : "+r"(p) : : "cc");
    uint64_t pa = p;
    printf("  partial b %llx w %llx l %llx h %llx add32 %llx\n", (unsigned long long)pb, (unsigned long long)pw,
           (unsigned long long)pl, (unsigned long long)ph, (unsigned long long)pa);
    h = h * 31 + (uint64_t)s8 + (uint64_t)s16 * 3 + z32 + r1 + r2 + r3 + r4 + r5 + r6 + pb + pw + pl + ph + pa;
  }
  for (unsigned i = 0; i < sizeof dsrc / sizeof dsrc[0]; i++) {
    double d = dsrc[i];
    float f = (float)d;
    long long ll = (d > -9.2e18 && d < 9.2e18) ? (long long)d : 0;
    unsigned long long ull = (d >= 0 && d < 1.8e19) ? (unsigned long long)d : 0;
    int in = (d > -2147483649.0 && d < 2147483648.0) ? (int)d : 0;
    unsigned un = (d > -1.0 && d < 4294967296.0) ? (unsigned)d : 0;
    printf("%.17g: float %.9g [%a] ll %lld ull %llu int %d uint %u short %d\n", d, (double)f, (double)f, ll, ull, in, un,
           (d > -32769 && d < 32768) ? (int)(short)d : 0);
    h = h * 31 + (uint64_t)ll + ull + (uint64_t)in + un;
  }
  printf("conversions hash %016llx\n", h);
  return 0;
}
