/* MMX instructions (inline asm: gcc implements the MMX intrinsics with SSE on x86-64) and their
 * aliasing with the x87 FPU: mm_i is the significand of physical register i; an MMX instruction
 * sets TOP = 0 and every tag valid, emms empties them; a pending unmasked x87 exception is raised
 * (#MF, SIGFPE) by the next MMX instruction. The x87 state is looked at through fxsave. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct fx { uint16_t fcw, fsw; uint8_t ftw, r1; uint16_t fop; uint64_t fip, fdp; uint32_t mxcsr, mask; struct { uint64_t m; uint16_t se; uint8_t pad[6]; } st[8]; uint8_t rest[256]; } __attribute__((aligned(16)));

static void show_fpu(const char *what) {
  static struct fx f;
  __asm__ volatile("fxsave64 %0" : "=m"(f));
  printf("%-22s top=%d tags=%02x fsw=%04x\n", what, (f.fsw >> 11) & 7, f.ftw, f.fsw & ~0x3800);
}

static uint64_t q(uint64_t a, uint64_t b, int op) {
  uint64_t r;
  switch (op) {
#define OP(n, insn) case n: __asm__ volatile("movq %1, %%mm0\n movq %2, %%mm1\n " insn " %%mm1, %%mm0\n movq %%mm0, %0" : "=m"(r) : "m"(a), "m"(b) : "mm0", "mm1"); break;
    OP(0, "paddb") OP(1, "paddsw") OP(2, "paddusb") OP(3, "psubd") OP(4, "psubusw") OP(5, "pmullw") OP(6, "pmulhw")
    OP(7, "pmaddwd") OP(8, "pcmpgtb") OP(9, "pcmpeqw") OP(10, "packsswb") OP(11, "packuswb") OP(12, "packssdw")
    OP(13, "punpcklbw") OP(14, "punpckhwd") OP(15, "punpckhdq") OP(16, "pand") OP(17, "pandn") OP(18, "pxor")
    OP(19, "psllw") OP(20, "psrad") OP(21, "psrlq") OP(22, "pavgb") OP(23, "pminub") OP(24, "pmaxsw") OP(25, "psadbw")
    OP(26, "pmulhuw") OP(27, "pmuludq") OP(28, "paddq") OP(29, "pshufb") OP(30, "phaddw") OP(31, "pmaddubsw")
    OP(32, "pmulhrsw") OP(33, "psignw") OP(34, "pabsb")
#undef OP
  }
  return r;
}

static sigjmp_buf env;
static void on_fpe(int sig, siginfo_t *si, void *ctx) {
  (void)ctx;
  printf("signal %d code %d\n", sig, si->si_code);
  siglongjmp(env, 1);
}

int main(void) {
  static const uint64_t v[] = { 0x0102030405060708ull, 0x80ff7f0100fe8001ull, 0xffffffffffffffffull, 0x7fff80000001fffeull,
                                0x00000000ffffffffull, 0x8000000000000000ull, 0x1234567890abcdefull, 0x0000000000000011ull };
  unsigned h = 0;
  for (int op = 0; op <= 34; op++) {
    uint64_t x = 0;
    for (unsigned i = 0; i < 8; i++)
      for (unsigned j = 0; j < 8; j++) x ^= q(v[i], v[j], op) * (2 * (i * 8 + j) + 1);
    printf("op %2d: %016llx\n", op, (unsigned long long)x);
    h = h * 31 + (unsigned)x;
  }
  __asm__ volatile("emms");

  /* immediate shifts, pshufw, pextrw/pinsrw, pmovmskb, movd */
  uint64_t r1, r2; uint32_t w, m, d;
  __asm__ volatile("movq %4, %%mm2\n psraw $3, %%mm2\n pshufw $0x1b, %%mm2, %%mm3\n pinsrw $2, %5, %%mm3\n"
                   "pextrw $1, %%mm3, %2\n pmovmskb %%mm3, %3\n movq %%mm2, %0\n movq %%mm3, %1\n emms"
                   : "=m"(r1), "=m"(r2), "=r"(w), "=r"(m) : "m"(v[3]), "r"(0xbeef) : "mm2", "mm3");
  __asm__ volatile("movd %1, %%mm4\n movd %%mm4, %0\n emms" : "=r"(d) : "r"(0xdeadbeef) : "mm4");
  printf("imm: %016llx %016llx %x %x %x\n", (unsigned long long)r1, (unsigned long long)r2, w, m, d);

  /* cvtpi2ps / cvttps2pi */
  float fl[4] = { 1.5f, -2.75f, 1e10f, -0.5f };
  int32_t ints[2] = { -7, 123456789 };
  float out[4] = { 9, 9, 9, 9 };
  int32_t cv[2];
  __asm__ volatile("movups %2, %%xmm1\n movq %3, %%mm5\n cvtpi2ps %%mm5, %%xmm1\n movups %%xmm1, %0\n"
                   "cvttps2pi %4, %%mm6\n movq %%mm6, %1\n emms" : "=m"(out), "=m"(cv) : "m"(fl), "m"(ints), "m"(fl[1]) : "xmm1", "mm5", "mm6");
  printf("cvt: %g %g %g %g | %d %d\n", out[0], out[1], out[2], out[3], cv[0], cv[1]);

  /* aliasing with the x87 registers */
  show_fpu("initial");
  __asm__ volatile("pxor %%mm1, %%mm1" ::: "mm1");
  show_fpu("after pxor mm1");
  uint64_t sig;
  __asm__ volatile("fld1\n fstp %%st(0)" ::: "st");
  show_fpu("fld1 on a full stack");
  __asm__ volatile("fnclex\n emms");
  show_fpu("after emms");
  __asm__ volatile("fldpi\n movq %%mm7, %0" : "=m"(sig) :: "mm7");
  printf("mm7 = significand of pi: %016llx\n", (unsigned long long)sig);
  show_fpu("after movq from mm7");
  long double ld;
  __asm__ volatile("emms\n movq %1, %%mm0\n emms\n fldt %2\n fstpt %0" : "=m"(ld) : "m"(v[6]), "m"(*(long double[]){ 3.0L }) : "mm0");
  show_fpu("after fld/fstp");

  /* a pending unmasked x87 exception is raised by an MMX instruction */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fpe;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGFPE, &sa, 0);
  if (!sigsetjmp(env, 1)) {
    uint16_t cw = 0x037b; /* ZE unmasked */
    __asm__ volatile("fninit\n fldcw %0\n fldz\n fld1\n fdivp\n" :: "m"(cw));
    printf("division done, exception pending\n");
    __asm__ volatile("paddb %%mm0, %%mm0" ::: "mm0");
    printf("not reached\n");
  }
  __asm__ volatile("fninit");
  show_fpu("after fninit");
  printf("hash %08x\n", h);
  return 0;
}
