// Atomic and locked instructions in a single thread: lock xadd/cmpxchg/inc/or/and/xor/bts, xchg
// with memory, cmpxchg success and failure (ZF and the accumulator), cmpxchg8b/cmpxchg16b, the
// __atomic builtins at every width, and mfence/lfence/sfence/pause.
#include <stdint.h>
#include <stdio.h>

static volatile uint8_t m8;
static volatile uint16_t m16;
static volatile uint32_t m32;
static volatile uint64_t m64;
static uint64_t pair[2] __attribute__((aligned(16)));

int main(void) {
  m8 = 250; m16 = 65530; m32 = 0xfffffff0u; m64 = 0x7ffffffffffffff0ULL;
  uint8_t o8 = __atomic_fetch_add(&m8, 10, __ATOMIC_SEQ_CST);
  uint16_t o16 = __atomic_fetch_add(&m16, 10, __ATOMIC_SEQ_CST);
  uint32_t o32 = __atomic_fetch_sub(&m32, 0x20, __ATOMIC_SEQ_CST);
  uint64_t o64 = __atomic_fetch_add(&m64, 0x20, __ATOMIC_SEQ_CST);
  printf("fetch_add: %u->%u %u->%u %x->%x %llx->%llx\n", o8, m8, o16, m16, o32, m32, (unsigned long long)o64,
         (unsigned long long)m64);
  o32 = __atomic_fetch_or(&m32, 0xf, __ATOMIC_RELAXED);
  uint32_t n32 = __atomic_and_fetch(&m32, 0xff00ff0fu, __ATOMIC_ACQ_REL);
  uint64_t x64 = __atomic_xor_fetch(&m64, 0xffffULL, __ATOMIC_SEQ_CST);
  printf("or/and/xor: %x %x %llx\n", o32, n32, (unsigned long long)x64);
  uint32_t exp = 12345;
  int ok1 = __atomic_compare_exchange_n(&m32, &exp, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  printf("cas fail: ok=%d expected now %x\n", ok1, exp);
  int ok2 = __atomic_compare_exchange_n(&m32, &exp, 777, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  printf("cas success: ok=%d value %u\n", ok2, m32);
  uint8_t e8 = m8;
  int ok3 = __atomic_compare_exchange_n(&m8, &e8, 99, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  uint16_t e16 = 1;
  int ok4 = __atomic_compare_exchange_n(&m16, &e16, 99, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  printf("cas8 ok=%d m8=%u; cas16 ok=%d e16=%u\n", ok3, m8, ok4, e16);
  uint64_t old = __atomic_exchange_n(&m64, 42, __ATOMIC_SEQ_CST);
  printf("xchg: old=%llx new=%llu\n", (unsigned long long)old, (unsigned long long)m64);

  /* raw lock-prefixed instructions and flags */
  uint32_t v = 0x7fffffff;
  unsigned char zf, cf, of;
  __asm__ volatile("lock incl %[m]\n\tseto %[of]" : [m] "+m"(v), [of] "=q"(of) : : "cc");
  printf("lock inc: %x of=%u\n", v, of);
  __asm__ volatile("lock decl %[m]\n\tsetz %[z]" : [m] "+m"(v), [z] "=q"(zf) : : "cc");
  uint32_t add = 5;
  __asm__ volatile("lock xaddl %[a],%[m]" : [m] "+m"(v), [a] "+r"(add) : : "cc");
  printf("lock dec zf=%u; xadd old=%x new=%x\n", zf, add, v);
  __asm__ volatile("lock btsl $3,%[m]\n\tsetc %[c]" : [m] "+m"(v), [c] "=q"(cf) : : "cc");
  printf("lock bts: %x cf=%u\n", v, cf);
  __asm__ volatile("lock btsl $3,%[m]\n\tsetc %[c]" : [m] "+m"(v), [c] "=q"(cf) : : "cc");
  printf("lock bts again: %x cf=%u\n", v, cf);
  uint64_t reg = 0x1111, mem = 0x2222;
  __asm__ volatile("xchgq %[r],%[m]" : [r] "+r"(reg), [m] "+m"(mem));
  printf("xchg mem: reg=%llx mem=%llx\n", (unsigned long long)reg, (unsigned long long)mem);
  uint64_t acc = 5, cur = 5, nv = 9;
  __asm__ volatile("lock cmpxchgq %[n],%[m]\n\tsetz %[z]" : [m] "+m"(cur), "+a"(acc), [z] "=q"(zf) : [n] "r"(nv) : "cc");
  printf("cmpxchg equal: zf=%u mem=%llu rax=%llu\n", zf, (unsigned long long)cur, (unsigned long long)acc);
  acc = 1;
  __asm__ volatile("lock cmpxchgq %[n],%[m]\n\tsetz %[z]" : [m] "+m"(cur), "+a"(acc), [z] "=q"(zf) : [n] "r"(nv) : "cc");
  printf("cmpxchg differ: zf=%u mem=%llu rax=%llu\n", zf, (unsigned long long)cur, (unsigned long long)acc);

  /* cmpxchg8b / cmpxchg16b */
  uint64_t q = 0x0000000200000001ULL;
  uint32_t lo = 1, hi = 2;
  __asm__ volatile("lock cmpxchg8b %[m]\n\tsetz %[z]" : [m] "+m"(q), "+a"(lo), "+d"(hi), [z] "=q"(zf) : "b"(0xaaaa), "c"(0xbbbb) : "cc");
  printf("cmpxchg8b: zf=%u q=%llx\n", zf, (unsigned long long)q);
  lo = 0; hi = 0;
  __asm__ volatile("lock cmpxchg8b %[m]\n\tsetz %[z]" : [m] "+m"(q), "+a"(lo), "+d"(hi), [z] "=q"(zf) : "b"(1), "c"(1) : "cc");
  printf("cmpxchg8b fail: zf=%u edx:eax=%x:%x\n", zf, hi, lo);
  pair[0] = 10; pair[1] = 20;
  uint64_t rax = 10, rdx = 20;
  __asm__ volatile("lock cmpxchg16b %[m]\n\tsetz %[z]" : [m] "+m"(pair), "+a"(rax), "+d"(rdx), [z] "=q"(zf) : "b"(30ULL), "c"(40ULL) : "cc");
  printf("cmpxchg16b: zf=%u pair=%llu,%llu\n", zf, (unsigned long long)pair[0], (unsigned long long)pair[1]);
  rax = 0; rdx = 0;
  __asm__ volatile("lock cmpxchg16b %[m]\n\tsetz %[z]" : [m] "+m"(pair), "+a"(rax), "+d"(rdx), [z] "=q"(zf) : "b"(1ULL), "c"(1ULL) : "cc");
  printf("cmpxchg16b fail: zf=%u rdx:rax=%llu:%llu\n", zf, (unsigned long long)rdx, (unsigned long long)rax);
  __asm__ volatile("mfence\n\tlfence\n\tsfence\n\tpause" ::: "memory");
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  /* a spin-lock style loop */
  static volatile int lock;
  long total = 0;
  for (int i = 0; i < 10000; i++) {
    while (__atomic_test_and_set(&lock, __ATOMIC_ACQUIRE)) { }
    total += i;
    __atomic_clear(&lock, __ATOMIC_RELEASE);
  }
  printf("spin total=%ld lock=%d\n", total, lock);
  return 0;
}
