// A loop that makes a system call every few thousand blocks, as md5sum, sort and gzip do reading
// their input: 4 KiB "read" (a getppid call here), then 64 calls of a 64-round mixing function
// through a function pointer. Its hot region must still be promoted to registers in Wasm locals
// (jit/code-cache.ts promoteLoops, at budget exits: the budget carries over system calls), and a
// run with the persistent cache must enter the promoted copy of the function.
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint32_t buf[1024];

__attribute__((noinline)) static void mix(uint32_t *st, const uint32_t *w) {
  uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
  for (uint32_t i = 0; i < 64; i++) {
    uint32_t f = (b & c) | (~b & d);
    uint32_t t = d;
    d = c;
    c = b;
    uint32_t x = a + f + w[i & 15] + i * 0x9e3779b9u;
    b = b + ((x << 7) | (x >> 25));
    a = t;
  }
  st[0] += a; st[1] += b; st[2] += c; st[3] += d;
}

static void (*volatile mixer)(uint32_t *, const uint32_t *) = mix;

int main(void) {
  uint32_t st[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };
  long calls = 0;
  for (int i = 0; i < 1024; i++) buf[i] = (uint32_t)i * 2654435761u;
  for (int chunk = 0; chunk < 6000; chunk++) {
    calls += syscall(SYS_getppid) > 0;
    buf[chunk & 1023] ^= (uint32_t)chunk;
    for (int k = 0; k < 1024; k += 16) mixer(st, buf + k);
  }
  printf("%08x %08x %08x %08x %ld\n", st[0], st[1], st[2], st[3], calls);
  return 0;
}
