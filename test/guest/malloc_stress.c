// malloc/calloc/realloc/free stress with a deterministic PRNG: small blocks (brk heap), blocks over
// 128 KiB (mmap path), realloc growth and shrinking (mremap), posix_memalign, and direct
// mmap/munmap/mprotect. Every block is filled with a pattern and verified before it is freed.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t s = 88172645463325252ULL;
static uint64_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }

#define SLOTS 512
static unsigned char *blk[SLOTS];
static size_t len[SLOTS];
static unsigned char tag[SLOTS];

static int check(int i) {
  for (size_t k = 0; k < len[i]; k += (len[i] > 4096 ? 61 : 1))
    if (blk[i][k] != (unsigned char)(tag[i] + k)) return 0;
  return 1;
}
static void fill(int i) {
  for (size_t k = 0; k < len[i]; k++) blk[i][k] = (unsigned char)(tag[i] + k);
}

int main(void) {
  int bad = 0, big = 0, reallocs = 0;
  unsigned long long bytes = 0;
  for (int step = 0; step < 6000; step++) {
    int i = (int)(rnd() % SLOTS);
    uint64_t r = rnd();
    if (blk[i]) {
      if (!check(i)) bad++;
      if (r % 4 == 0) {
        /* realloc to a new size, possibly crossing the mmap threshold */
        size_t n = (r >> 8) % 7 == 0 ? 130000 + (r >> 16) % 400000 : (r >> 8) % 3000 + 1;
        unsigned char *p = realloc(blk[i], n);
        if (!p) { bad++; continue; }
        size_t keep = n < len[i] ? n : len[i];
        blk[i] = p;
        for (size_t k = 0; k < keep; k += 97)
          if (p[k] != (unsigned char)(tag[i] + k)) { bad++; break; }
        len[i] = n;
        fill(i);
        reallocs++;
      } else {
        free(blk[i]);
        blk[i] = NULL;
      }
    } else {
      size_t n;
      if (r % 50 == 0) { n = 131072 + (r >> 10) % (1 << 20); big++; }
      else n = (r >> 10) % (r % 3 == 0 ? 64 : 2048) + 1;
      if (r % 11 == 0) {
        blk[i] = calloc(n, 1);
        for (size_t k = 0; k < n; k += 13)
          if (blk[i][k]) { bad++; break; }
      } else {
        blk[i] = malloc(n);
      }
      if (!blk[i]) { bad++; continue; }
      len[i] = n;
      tag[i] = (unsigned char)r;
      fill(i);
      bytes += n;
    }
  }
  for (int i = 0; i < SLOTS; i++)
    if (blk[i]) { if (!check(i)) bad++; free(blk[i]); }
  printf("malloc: bad=%d big=%d reallocs=%d bytes=%llu\n", bad, big, reallocs, bytes);

  /* aligned allocations */
  int misaligned = 0;
  for (size_t al = 16; al <= 65536; al *= 4) {
    void *p = NULL;
    if (posix_memalign(&p, al, al * 3 + 5) != 0) { misaligned++; continue; }
    if ((uintptr_t)p % al) misaligned++;
    memset(p, 1, al * 3 + 5);
    free(p);
    void *q = aligned_alloc(al, al * 2);
    if (!q || (uintptr_t)q % al) misaligned++;
    free(q);
  }
  printf("aligned: misaligned=%d\n", misaligned);

  /* a large block grown step by step (mremap under the hood) */
  size_t n = 200000;
  unsigned char *g = malloc(n);
  for (size_t k = 0; k < n; k++) g[k] = (unsigned char)(k % 251);
  for (int step = 0; step < 6; step++) {
    size_t m = n * 2 + 4096;
    g = realloc(g, m);
    for (size_t k = n; k < m; k++) g[k] = (unsigned char)(k % 251);
    n = m;
  }
  unsigned long sum = 0;
  for (size_t k = 0; k < n; k += 4099) sum += g[k] == (unsigned char)(k % 251);
  g = realloc(g, 1000);
  for (size_t k = 0; k < 1000; k++) sum += g[k] == (unsigned char)(k % 251);
  free(g);
  printf("grown to %zu: ok=%lu\n", n, sum);

  /* raw mmap / mprotect / munmap */
  long page = sysconf(_SC_PAGESIZE);
  unsigned char *m = mmap(NULL, 16 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) { printf("mmap failed\n"); return 1; }
  int zero = 1;
  for (long k = 0; k < 16 * page; k++) zero &= m[k] == 0;
  for (long k = 0; k < 16 * page; k++) m[k] = (unsigned char)(k >> 12);
  int rc1 = mprotect(m + 4 * page, 4 * page, PROT_READ);
  int rc2 = munmap(m + 8 * page, 8 * page);
  unsigned long t = 0;
  for (long k = 0; k < 8 * page; k += 512) t += m[k];
  int rc3 = munmap(m, 8 * page);
  printf("mmap: page=%ld zero=%d mprotect=%d munmap=%d,%d t=%lu\n", page, zero, rc1, rc2, rc3, t);

  /* sbrk moves the break */
  void *b0 = sbrk(0);
  void *b1 = sbrk(65536);
  void *b2 = sbrk(0);
  printf("sbrk grew by %ld, old break returned: %d\n", (long)((char *)b2 - (char *)b0), b1 == b0);
  memset(b1, 7, 65536);
  sbrk(-65536);
  return bad != 0 || misaligned != 0;
}
