// The FP state across a handler: XMM0-15, MXCSR and the x87 stack and control word of the
// interrupted code survive a handler that computes with SSE and x87 and changes both control
// registers; the handler starts with the default state (MXCSR 0x1f80, FCW 0x37f, empty x87
// stack); the saved state is readable in uc_mcontext.fpregs, and a change made there (an XMM
// register) is what the interrupted code gets back.
#define _GNU_SOURCE
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

static volatile unsigned h_mxcsr, h_fcw, h_ftw_empty, fr_mxcsr, fr_cwd, fr_xmm3_ok, fr_st0_is_one, fr_st1_is_pi;
static volatile double h_result;

static void handler(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  (void)sig, (void)si;
  unsigned m;
  unsigned short cw;
  unsigned char env[28];
  __asm__ volatile("stmxcsr %0" : "=m"(m));
  __asm__ volatile("fnstcw %0" : "=m"(cw));
  __asm__ volatile("fnstenv %0" : "=m"(env));
  h_mxcsr = m;
  h_fcw = cw;
  h_ftw_empty = (env[8] | env[9] << 8) == 0xffff;
  __asm__ volatile("fldcw %0" : : "m"(cw));

  /* what the interrupted code had */
  fpregset_t fp = uc->uc_mcontext.fpregs;
  fr_mxcsr = fp->mxcsr;
  fr_cwd = fp->cwd;
  fr_xmm3_ok = fp->_xmm[3].element[0] == 0x33333333u && fp->_xmm[3].element[3] == 0x33333333u + 0xffffu;
  fr_st0_is_one = fp->_st[0].significand[3] == 0x8000 && fp->_st[0].exponent == 0x3fff;
  fr_st1_is_pi = fp->_st[1].significand[3] == 0xc90f && fp->_st[1].exponent == 0x4000;
  /* change what xmm5 will be */
  for (int i = 0; i < 4; i++) fp->_xmm[5].element[i] = 0xabcd0000u + i;

  /* use the FPU and change its modes */
  unsigned rz = (m & ~0x6000u) | 0x6000u;
  __asm__ volatile("ldmxcsr %0" : : "m"(rz));
  unsigned short cw2 = 0x0c7f;
  __asm__ volatile("fldcw %0" : : "m"(cw2));
  volatile double a = 1.0, b = 3.0;
  volatile long double la = 2.0L;
  h_result = a / b + (double)sqrtl(la) + sqrt(b);
  __asm__ volatile("fldpi\n\tfldpi\n\tfldpi" ::: "st", "st(1)", "st(2)");
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, NULL);

  uint32_t in[16][4], out[16][4];
  for (int r = 0; r < 16; r++)
    for (int k = 0; k < 4; k++) in[r][k] = 0x11111111u * (uint32_t)r + (k == 3 ? 0xffffu : 0);
  unsigned mx = 0x1f80 | 0x6000 | 0x40; /* round toward zero, DAZ */
  unsigned short fcw = 0x027f;          /* 53-bit precision */
  unsigned mx_after;
  unsigned short fcw_after;
  long double st0, st1;
  long pid = getpid(), tid = syscall(SYS_gettid);
  __asm__ volatile(
      "ldmxcsr %[mx]\n\tfldcw %[fcw]\n\tfldpi\n\tfld1\n\t"
      "movdqu 0(%[in]), %%xmm0\n\tmovdqu 16(%[in]), %%xmm1\n\tmovdqu 32(%[in]), %%xmm2\n\tmovdqu 48(%[in]), %%xmm3\n\t"
      "movdqu 64(%[in]), %%xmm4\n\tmovdqu 80(%[in]), %%xmm5\n\tmovdqu 96(%[in]), %%xmm6\n\tmovdqu 112(%[in]), %%xmm7\n\t"
      "movdqu 128(%[in]), %%xmm8\n\tmovdqu 144(%[in]), %%xmm9\n\tmovdqu 160(%[in]), %%xmm10\n\t"
      "movdqu 176(%[in]), %%xmm11\n\tmovdqu 192(%[in]), %%xmm12\n\tmovdqu 208(%[in]), %%xmm13\n\t"
      "movdqu 224(%[in]), %%xmm14\n\tmovdqu 240(%[in]), %%xmm15\n\t"
      "mov $234, %%eax\n\tmov %[pid], %%rdi\n\tmov %[tid], %%rsi\n\tmov $10, %%edx\n\tsyscall\n\t"
      "movdqu %%xmm0, 0(%[out])\n\tmovdqu %%xmm1, 16(%[out])\n\tmovdqu %%xmm2, 32(%[out])\n\tmovdqu %%xmm3, 48(%[out])\n\t"
      "movdqu %%xmm4, 64(%[out])\n\tmovdqu %%xmm5, 80(%[out])\n\tmovdqu %%xmm6, 96(%[out])\n\tmovdqu %%xmm7, 112(%[out])\n\t"
      "movdqu %%xmm8, 128(%[out])\n\tmovdqu %%xmm9, 144(%[out])\n\tmovdqu %%xmm10, 160(%[out])\n\t"
      "movdqu %%xmm11, 176(%[out])\n\tmovdqu %%xmm12, 192(%[out])\n\tmovdqu %%xmm13, 208(%[out])\n\t"
      "movdqu %%xmm14, 224(%[out])\n\tmovdqu %%xmm15, 240(%[out])\n\t"
      "stmxcsr %[mxa]\n\tfnstcw %[fcwa]\n\tfstpt %[st0]\n\tfstpt %[st1]\n\t"
      "mov $0x1f80, %%eax\n\tmov %%eax, %[mx]\n\tldmxcsr %[mx]\n\tmovw $0x37f, %[fcw]\n\tfldcw %[fcw]"
      : [mxa] "=m"(mx_after), [fcwa] "=m"(fcw_after), [st0] "=m"(st0), [st1] "=m"(st1), [mx] "+m"(mx), [fcw] "+m"(fcw)
      : [in] "r"(in), [out] "r"(out), [pid] "r"(pid), [tid] "r"(tid)
      : "rax", "rcx", "rdx", "rsi", "rdi", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
        "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");

  int same = 0;
  for (int r = 0; r < 16; r++) same += r != 5 && memcmp(in[r], out[r], 16) == 0;
  printf("handler: mxcsr=%#x fcw=%#x x87 empty=%d result=%.12f\n", h_mxcsr, h_fcw, h_ftw_empty, h_result);
  printf("frame: mxcsr=%#x cwd=%#x xmm3=%d st0=1:%d st1=pi:%d\n", fr_mxcsr, fr_cwd, fr_xmm3_ok, fr_st0_is_one,
         fr_st1_is_pi);
  printf("after: xmm unchanged=%d/15 xmm5=%x,%x,%x,%x mxcsr=%#x fcw=%#x st0=%Lg st1=%.18Lg\n", same, out[5][0],
         out[5][1], out[5][2], out[5][3], mx_after, fcw_after, st0, st1);
  return 0;
}
