/*
 * usmjit differential tester: the native harness.
 *
 * The same static, non-PIE binary runs natively and under usmjit; the two outputs are compared
 * (test/diff/run.ts). It needs no libc: raw system calls only (read, write, mmap, arch_prctl, exit_group
 * and, with -s, rt_sigaction/sigaltstack), so it depends on as little of the emulator's Linux layer as
 * possible and its .data/.bss addresses are identical in both runs.
 *
 * Build: gcc -O2 -static -nostdlib -fno-pie -no-pie -fno-builtin
 *            -fno-tree-loop-distribute-patterns -o harness harness.c
 * Usage: harness [-s] [-f] [-m] < cases
 *   -m  load every case's MXCSR (by default only when it differs from the MXCSR the last snippet left)
 *   -f  flush the output after every case (to find the case that crashed the process)
 *   -s  install SIGSEGV/SIGFPE/SIGILL/SIGBUS/SIGTRAP handlers: a faulting snippet prints
 *       "SIG <n>" instead of killing the process (off by default: the emulator does not deliver
 *       signals to handlers yet).
 *
 * Input: a stream of fixed-size little-endian records (struct case_in below, CASE_SIZE bytes).
 * Output: first a line "HARNESS mem=<hex> code=<hex> landing=<hex> rsp=<hex> fs=<hex> gs=<hex>
 * signals=<0|1>" (fs/gs: the segment bases it sets with arch_prctl), then one line per
 * case, either "SIG <n>" or the final state as space-separated hex fields:
 *   16 GPRs (rax..r15, rsp included, 16 digits each), RFLAGS (16), MXCSR (8),
 *   16 XMM registers (32 digits each: the 16 bytes in memory order), the data area
 *   (MEM_SIZE bytes in memory order, one field), then the x87 state as fxsave64 stored it:
 *   FCW (4 digits), FSW (4), the abridged tag byte (2: bit i = physical register i valid), FOP (4),
 *   FIP (16), FDP (16), and ST(0)..ST(7) (20 digits each: sign/exponent then significand).
 *
 * Per case: the snippet is copied to CODE_ADDR + codeoff in two RWX pages (the same pages every
 * time: the emulator must notice the rewrite; codeoff near 4096 makes it cross the page boundary),
 * followed by `jmp qword ptr [rip+0]` and the 8-byte
 * address of the landing label. Registers are loaded from the record; the GPRs whose bit is set in
 * `relmask` get the data area's address added first (memory operands address the data area through
 * them; the data area straddles a page boundary at offset 128). RSP is set to mem + STACK_OFF (the data area doubles as the stack: pushes land inside it).
 * RFLAGS is loaded by popfq with (flags & (arith | DF)) | 0x202.
 *
 * The x87 state (FCW, FSW with TOP, the full tag word, ST(0)..ST(7)) is loaded from the record's
 * 108-byte fnsave image with frstor before the snippet, and stored with fxsave64 after it. frstor,
 * not fxrstor: fxrstor also loads MXCSR and the XMM registers, which the harness loads on their own.
 */

typedef unsigned long u64;
typedef unsigned int u32;
typedef unsigned char u8;
typedef long i64;

#define CODE_ADDR 0x10000000UL
#define CODE_PAGES 2
#define CODE_MAX 512
#define MEM_SIZE 512
#define STACK_OFF 384
#define GS_OFF 64
#define FLAGS_IN_MASK 0xcd5UL /* CF PF AF ZF SF DF OF */
#define FPU_SIZE 112 /* the fnsave image (32-bit protected-mode format: 28 + 80 bytes), padded */

struct case_in {
  u32 magic; /* 'DIFF' = 0x46464944 */
  u32 codelen;
  u32 codeoff; /* where the snippet starts in the code pages (it may cross into the second one) */
  u32 relmask; /* bit i: gpr[i] += &mem */
  u8 code[CODE_MAX];
  u64 gpr[16];
  u64 rflags;
  u32 mxcsr;
  u32 pad;
  u8 xmm[256];
  u8 mem[MEM_SIZE];
  u8 fpu[FPU_SIZE];
};
#define CASE_SIZE sizeof(struct case_in)
_Static_assert(sizeof(struct case_in) == 16 + CODE_MAX + 128 + 16 + 256 + MEM_SIZE + FPU_SIZE, "layout");

/* State shared with the trampoline (accessed rip-relative from the asm below). */
u64 g_gpr[16] __attribute__((aligned(16)));
u64 g_flags __attribute__((aligned(16)));
u32 g_mxcsr __attribute__((aligned(16)));
/* Whether run_snippet loads g_mxcsr: only when the case's MXCSR differs from the current one (or
 * always, -m: what the tester passes; a load that keeps MXCSR's default control keeps usmjit in its
 * fast SSE flavour, see test/diff/README.md). */
u32 g_ldmx;
u8 g_xmm[256] __attribute__((aligned(16)));
u8 g_fpu[FPU_SIZE] __attribute__((aligned(16)));
u8 g_fxs[512] __attribute__((aligned(16)));
u64 g_host_rsp;
u64 g_code_ptr;
/* The data area straddles a page boundary (at offset MEM_PAGE_OFF) so that accesses may cross it. */
#define MEM_PAGE_OFF 128
u8 g_memblock[8192] __attribute__((aligned(4096)));
#define g_mem (g_memblock + 4096 - MEM_PAGE_OFF)
u8 g_priv_stack[4096] __attribute__((aligned(16)));
volatile int g_signo;

int run_snippet(void); /* 0: reached the landing label; 1: aborted by a signal */
void landing(void);
void sig_abort(void);

__asm__(
  ".text\n"
  ".globl _start\n"
  "_start:\n"
  "  mov %rsp, %rdi\n"
  "  and $-16, %rsp\n"
  "  call cmain\n"
  "  hlt\n"

  ".globl run_snippet\n"
  "run_snippet:\n"
  "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
  "  mov %rsp, g_host_rsp(%rip)\n"
  "  cmpl $0, g_ldmx(%rip)\n"
  "  je 3f\n"
  "  ldmxcsr g_mxcsr(%rip)\n"
  "3:\n"
  "  fninit\n" /* non-waiting: drops an exception a snippet left pending (frstor would raise #MF) */
  "  frstor g_fpu(%rip)\n"
  "  movdqu g_xmm+0(%rip), %xmm0\n   movdqu g_xmm+16(%rip), %xmm1\n"
  "  movdqu g_xmm+32(%rip), %xmm2\n  movdqu g_xmm+48(%rip), %xmm3\n"
  "  movdqu g_xmm+64(%rip), %xmm4\n  movdqu g_xmm+80(%rip), %xmm5\n"
  "  movdqu g_xmm+96(%rip), %xmm6\n  movdqu g_xmm+112(%rip), %xmm7\n"
  "  movdqu g_xmm+128(%rip), %xmm8\n movdqu g_xmm+144(%rip), %xmm9\n"
  "  movdqu g_xmm+160(%rip), %xmm10\n movdqu g_xmm+176(%rip), %xmm11\n"
  "  movdqu g_xmm+192(%rip), %xmm12\n movdqu g_xmm+208(%rip), %xmm13\n"
  "  movdqu g_xmm+224(%rip), %xmm14\n movdqu g_xmm+240(%rip), %xmm15\n"
  "  lea g_flags(%rip), %rsp\n"
  "  popfq\n"
  "  mov g_gpr+32(%rip), %rsp\n"
  "  mov g_gpr+0(%rip), %rax\n   mov g_gpr+8(%rip), %rcx\n"
  "  mov g_gpr+16(%rip), %rdx\n  mov g_gpr+24(%rip), %rbx\n"
  "  mov g_gpr+40(%rip), %rbp\n  mov g_gpr+48(%rip), %rsi\n"
  "  mov g_gpr+56(%rip), %rdi\n  mov g_gpr+64(%rip), %r8\n"
  "  mov g_gpr+72(%rip), %r9\n   mov g_gpr+80(%rip), %r10\n"
  "  mov g_gpr+88(%rip), %r11\n  mov g_gpr+96(%rip), %r12\n"
  "  mov g_gpr+104(%rip), %r13\n mov g_gpr+112(%rip), %r14\n"
  "  mov g_gpr+120(%rip), %r15\n"
  "  jmp *g_code_ptr(%rip)\n"

  ".globl landing\n"
  "landing:\n"
  "  mov %rax, g_gpr+0(%rip)\n   mov %rcx, g_gpr+8(%rip)\n"
  "  mov %rdx, g_gpr+16(%rip)\n  mov %rbx, g_gpr+24(%rip)\n"
  "  mov %rsp, g_gpr+32(%rip)\n  mov %rbp, g_gpr+40(%rip)\n"
  "  mov %rsi, g_gpr+48(%rip)\n  mov %rdi, g_gpr+56(%rip)\n"
  "  mov %r8, g_gpr+64(%rip)\n   mov %r9, g_gpr+72(%rip)\n"
  "  mov %r10, g_gpr+80(%rip)\n  mov %r11, g_gpr+88(%rip)\n"
  "  mov %r12, g_gpr+96(%rip)\n  mov %r13, g_gpr+104(%rip)\n"
  "  mov %r14, g_gpr+112(%rip)\n mov %r15, g_gpr+120(%rip)\n"
  "  lea g_priv_stack+4096(%rip), %rsp\n"
  "  pushfq\n"
  "  popq g_flags(%rip)\n"
  "  fxsave64 g_fxs(%rip)\n"
  "  movdqu %xmm0, g_xmm+0(%rip)\n   movdqu %xmm1, g_xmm+16(%rip)\n"
  "  movdqu %xmm2, g_xmm+32(%rip)\n  movdqu %xmm3, g_xmm+48(%rip)\n"
  "  movdqu %xmm4, g_xmm+64(%rip)\n  movdqu %xmm5, g_xmm+80(%rip)\n"
  "  movdqu %xmm6, g_xmm+96(%rip)\n  movdqu %xmm7, g_xmm+112(%rip)\n"
  "  movdqu %xmm8, g_xmm+128(%rip)\n movdqu %xmm9, g_xmm+144(%rip)\n"
  "  movdqu %xmm10, g_xmm+160(%rip)\n movdqu %xmm11, g_xmm+176(%rip)\n"
  "  movdqu %xmm12, g_xmm+192(%rip)\n movdqu %xmm13, g_xmm+208(%rip)\n"
  "  movdqu %xmm14, g_xmm+224(%rip)\n movdqu %xmm15, g_xmm+240(%rip)\n"
  "  stmxcsr g_mxcsr(%rip)\n"
  "  xor %eax, %eax\n"
  "  jmp 1f\n"

  /* Called (never returns) from a signal handler: abandon the snippet like siglongjmp. */
  ".globl sig_abort\n"
  "sig_abort:\n"
  "  mov $1, %eax\n"
  "1:\n"
  "  cld\n"
  "  mov g_host_rsp(%rip), %rsp\n"
  "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
  "  ret\n"

  ".globl sig_restorer\n"
  "sig_restorer:\n"
  "  mov $15, %eax\n"
  "  syscall\n"
  "  hlt\n");

/* ---- system calls ---------------------------------------------------------------------- */

static inline i64 sys3(i64 n, i64 a, i64 b, i64 c) {
  i64 r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

static inline i64 sys6(i64 n, i64 a, i64 b, i64 c, i64 d, i64 e, i64 f) {
  i64 r;
  register i64 r10 __asm__("r10") = d;
  register i64 r8 __asm__("r8") = e;
  register i64 r9 __asm__("r9") = f;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return r;
}

static __attribute__((noreturn)) void sys_exit(int status) {
  for (;;) sys3(231, status, 0, 0);
}

/* ---- output buffer ----------------------------------------------------------------------- */

static char obuf[1 << 20];
static u64 olen;

static void flush(void) {
  u64 off = 0;
  while (off < olen) {
    i64 n = sys3(1, 1, (i64)(obuf + off), (i64)(olen - off));
    if (n <= 0) sys_exit(3);
    off += (u64)n;
  }
  olen = 0;
}

static void put(const char *s) {
  while (*s) {
    if (olen == sizeof obuf) flush();
    obuf[olen++] = *s++;
  }
}

static const char HEX[] = "0123456789abcdef";

/* Reserves n bytes of output space (n <= 8192). */
static char *reserve(u64 n) {
  if (olen + n > sizeof obuf) flush();
  char *p = obuf + olen;
  olen += n;
  return p;
}

static void put_hex(u64 v, int digits) {
  char *p = reserve((u64)digits);
  for (int i = digits - 1; i >= 0; i--) {
    p[i] = HEX[v & 15];
    v >>= 4;
  }
}

static void put_bytes(const u8 *b, u64 n) {
  char *p = reserve(2 * n);
  for (u64 i = 0; i < n; i++) {
    p[2 * i] = HEX[b[i] >> 4];
    p[2 * i + 1] = HEX[b[i] & 15];
  }
}

static void put_dec(u64 v) {
  char t[24];
  int n = 0;
  do { t[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  char *p = reserve((u64)n);
  for (int i = 0; i < n; i++) p[i] = t[n - 1 - i];
}

static u64 le(const u8 *p, int n) {
  u64 v = 0;
  for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* The x87 fields of a state line, from the fxsave64 image. */
static void put_x87(void) {
  const u8 *f = g_fxs;
  put(" "); put_hex(le(f + 0, 2), 4);
  put(" "); put_hex(le(f + 2, 2), 4);
  put(" "); put_hex(f[4], 2);
  put(" "); put_hex(le(f + 6, 2), 4);
  put(" "); put_hex(le(f + 8, 8), 16);
  put(" "); put_hex(le(f + 16, 8), 16);
  for (int i = 0; i < 8; i++) {
    put(" ");
    put_hex(le(f + 40 + 16 * i, 2), 4);
    put_hex(le(f + 32 + 16 * i, 8), 16);
  }
}

/* ---- input ---------------------------------------------------------------------------------- */

static struct case_in cur;

/* Reads exactly one record; 0 at a clean end of input. */
static int read_case(void) {
  u8 *p = (u8 *)&cur;
  u64 got = 0;
  while (got < CASE_SIZE) {
    i64 n = sys3(0, 0, (i64)(p + got), (i64)(CASE_SIZE - got));
    if (n < 0) sys_exit(4);
    if (n == 0) {
      if (got == 0) return 0;
      put("ERROR truncated record\n");
      flush();
      sys_exit(5);
    }
    got += (u64)n;
  }
  return 1;
}

/* ---- signals ------------------------------------------------------------------------------- */

struct k_sigaction {
  void (*handler)(int, void *, void *);
  u64 flags;
  void (*restorer)(void);
  u64 mask;
};

struct k_stack {
  void *sp;
  int flags;
  u64 size;
};

void sig_restorer(void);
static u8 alt_stack[65536] __attribute__((aligned(16)));

static void on_signal(int sig, void *info, void *uctx) {
  (void)info;
  (void)uctx;
  g_signo = sig;
  sig_abort();
}

static void install_handlers(void) {
  struct k_stack ss = { alt_stack, 0, sizeof alt_stack };
  if (sys3(131, (i64)&ss, 0, 0) != 0) { put("ERROR sigaltstack\n"); flush(); sys_exit(6); }
  static const int sigs[] = { 4, 5, 7, 8, 11 };
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
    /* SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTORER */
    struct k_sigaction sa = { on_signal, 0x4UL | 0x08000000UL | 0x40000000UL | 0x04000000UL, sig_restorer, 0 };
    if (sys6(13, sigs[i], (i64)&sa, 0, 8, 0, 0) != 0) { put("ERROR rt_sigaction\n"); flush(); sys_exit(6); }
  }
}

/* ---- main ------------------------------------------------------------------------------------- */

static void copy(u8 *d, const u8 *s, u64 n) {
  for (u64 i = 0; i < n; i++) ((volatile u8 *)d)[i] = s[i];
}

__attribute__((used)) void cmain(u64 *sp) {
  int argc = (int)sp[0];
  char **argv = (char **)(sp + 1);
  int signals = 0, flush_each = 0, always_ldmx = 0;
  u32 cur_mxcsr = 0x1f80; /* MXCSR as the last snippet left it (a signal handler's is the default) */
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-' && argv[i][1] == 's' && argv[i][2] == 0) signals = 1;
    if (argv[i][0] == '-' && argv[i][1] == 'f' && argv[i][2] == 0) flush_each = 1;
    if (argv[i][0] == '-' && argv[i][1] == 'm' && argv[i][2] == 0) always_ldmx = 1;
  }

  /* PROT_READ|WRITE|EXEC, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED */
  i64 code = sys6(9, (i64)CODE_ADDR, CODE_PAGES * 4096, 7, 0x22 | 0x10, -1, 0);
  if (code != (i64)CODE_ADDR) { put("ERROR mmap\n"); flush(); sys_exit(2); }
  g_code_ptr = CODE_ADDR;
  if (signals) install_handlers();
  /* Segment bases for fs:/gs: memory operands: fs = the data area, gs = data area + GS_OFF. */
  if (sys3(158, 0x1002, (i64)g_mem, 0) != 0 || sys3(158, 0x1001, (i64)(g_mem + GS_OFF), 0) != 0) {
    put("ERROR arch_prctl\n");
    flush();
    sys_exit(2);
  }

  put("HARNESS mem=");
  put_hex((u64)g_mem, 16);
  put(" code=");
  put_hex(CODE_ADDR, 16);
  put(" landing=");
  put_hex((u64)landing, 16);
  put(" rsp=");
  put_hex((u64)g_mem + STACK_OFF, 16);
  put(" fs=");
  put_hex((u64)g_mem, 16);
  put(" gs=");
  put_hex((u64)g_mem + GS_OFF, 16);
  put(signals ? " signals=1\n" : " signals=0\n");

  u8 *page = (u8 *)CODE_ADDR;
  while (read_case()) {
    if (cur.magic != 0x46464944 || cur.codelen > CODE_MAX || cur.codeoff + cur.codelen + 14 > CODE_PAGES * 4096) {
      put("ERROR bad record\n");
      flush();
      sys_exit(5);
    }
    u8 *start = page + cur.codeoff;
    copy(start, cur.code, cur.codelen);
    u8 *t = start + cur.codelen;
    u64 land = (u64)landing;
    u8 jmp[14] = { 0xff, 0x25, 0, 0, 0, 0 };
    for (int i = 0; i < 8; i++) jmp[6 + i] = (u8)(land >> (8 * i));
    copy(t, jmp, sizeof jmp);

    for (int i = 0; i < 16; i++) g_gpr[i] = cur.gpr[i] + ((cur.relmask >> i) & 1 ? (u64)g_mem : 0);
    g_gpr[4] = (u64)g_mem + STACK_OFF;
    g_flags = (cur.rflags & FLAGS_IN_MASK) | 0x202;
    g_mxcsr = cur.mxcsr;
    g_ldmx = always_ldmx || cur.mxcsr != cur_mxcsr;
    copy(g_xmm, cur.xmm, sizeof g_xmm);
    copy(g_mem, cur.mem, MEM_SIZE);
    copy(g_fpu, cur.fpu, FPU_SIZE);
    g_signo = 0;
    g_code_ptr = (u64)start;

    if (run_snippet()) {
      cur_mxcsr = 0x1f80;
      put("SIG ");
      put_dec((u64)g_signo);
      put("\n");
      if (flush_each) flush();
      continue;
    }
    cur_mxcsr = g_mxcsr;
    for (int i = 0; i < 16; i++) {
      put_hex(g_gpr[i], 16);
      put(" ");
    }
    put_hex(g_flags, 16);
    put(" ");
    put_hex(g_mxcsr, 8);
    for (int i = 0; i < 16; i++) {
      put(" ");
      put_bytes(g_xmm + 16 * i, 16);
    }
    put(" ");
    put_bytes(g_mem, MEM_SIZE);
    put_x87();
    put("\n");
    if (flush_each) flush();
  }
  flush();
  sys_exit(0);
}
