/* File-backed mmap: MAP_PRIVATE (copy on write, the file unchanged) and MAP_SHARED (the file's
 * pages: coherent with pread/pwrite, two mappings alias, msync/munmap write back), offsets, the
 * partial last page (zeros past the end of the file) and SIGBUS for a page wholly past it,
 * mprotect (read-only, EACCES for a shared mapping of a read-only fd), madvise(MADV_DONTNEED),
 * mremap of a shared file mapping, ftruncate growing the file under a mapping, /proc/self/maps. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PG 4096
static sigjmp_buf env;
static volatile char *fault_base;

static void on_fault(int sig, siginfo_t *si, void *ctx) {
  (void)ctx;
  printf("  signal %s code %d at base+%ld\n", sig == SIGBUS ? "SIGBUS" : sig == SIGSEGV ? "SIGSEGV" : "?", si->si_code,
         (long)((char *)si->si_addr - (char *)fault_base));
  siglongjmp(env, 1);
}

static int touch(volatile char *base, long off, int write) {
  fault_base = base;
  if (sigsetjmp(env, 1)) return -1;
  if (write) base[off] = 'W';
  return base[off];
}

static unsigned sum(const unsigned char *p, size_t n) {
  unsigned s = 0;
  for (size_t i = 0; i < n; i++) s = s * 31 + p[i];
  return s;
}

static void file_bytes(int fd, const char *what) {
  unsigned char buf[3 * PG];
  ssize_t n = pread(fd, buf, sizeof buf, 0);
  printf("%s: file has %zd bytes, sum %08x, [0]=%c [5000]=%c [9999]=%c\n", what, n, sum(buf, n), buf[0], buf[5000], buf[9999]);
}

static void maps_line(void *addr) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  unsigned long lo, hi, off;
  char perms[8];
  while (f && fgets(line, sizeof line, f)) {
    if (sscanf(line, "%lx-%lx %7s %lx", &lo, &hi, perms, &off) == 4 && lo == (unsigned long)addr)
      printf("  maps: %lu pages %s offset %lx%s\n", (hi - lo) / PG, perms, off, strstr(line, "mmap_file.dat") ? " (named)" : "");
  }
  if (f) fclose(f);
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGBUS, &sa, 0);
  sigaction(SIGSEGV, &sa, 0);

  char path[] = "/tmp/usmjit-mmap_file.dat-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) { perror("mkstemp"); return 1; }
  unsigned char data[10000];
  for (int i = 0; i < 10000; i++) data[i] = 'a' + (i * 7 + i / 97) % 26;
  if (write(fd, data, sizeof data) != sizeof data) return 1;
  file_bytes(fd, "initial");

  printf("MAP_PRIVATE, 4 pages of a 10000-byte file\n");
  char *p = mmap(0, 4 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  printf("  [0]=%c [9999]=%c [10000]=%d [12287]=%d sum %08x\n", p[0], p[9999], p[10000], p[12287], sum((unsigned char *)p, 3 * PG));
  printf("  page past the end: %d\n", touch(p, 3 * PG + 5, 0));
  printf("  write: %c\n", touch(p, 100, 1));
  file_bytes(fd, "  after a private write");
  maps_line(p);
  madvise(p, PG, MADV_DONTNEED);
  printf("  after MADV_DONTNEED [100]=%c\n", p[100]);
  munmap(p, 4 * PG);

  printf("MAP_PRIVATE at offset 4096\n");
  p = mmap(0, 2 * PG, PROT_READ, MAP_PRIVATE, fd, PG);
  printf("  [0]=%c (file[4096]=%c) [5903]=%c [5904]=%d\n", p[0], data[4096], p[5903], p[5904]);
  printf("  write to read-only: %d\n", touch(p, 0, 1));
  maps_line(p);
  munmap(p, 2 * PG);

  printf("MAP_SHARED\n");
  char *s1 = mmap(0, 3 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  char *s2 = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PG);
  s1[0] = 'S'; s1[5000] = 'T'; s1[9999] = 'U';
  s1[10500] = 'X'; /* past the end of the file: in memory only */
  printf("  alias: s2[5000-4096]=%c\n", s2[5000 - PG]);
  s2[1] = 'V';
  printf("  alias back: s1[4097]=%c\n", s1[4097]);
  file_bytes(fd, "  without msync");
  pwrite(fd, "pw", 2, 5001);
  printf("  after pwrite: s1[5001]=%c s2[906]=%c s1[5000]=%c\n", s1[5001], s2[906], s1[5000]);
  char *pv = mmap(0, PG, PROT_READ, MAP_PRIVATE, fd, 0);
  printf("  a private mapping sees it: %c\n", pv[0]);
  munmap(pv, PG);
  msync(s1, 3 * PG, MS_SYNC);
  maps_line(s1);
  char *moved = mremap(s1, 3 * PG, 5 * PG, MREMAP_MAYMOVE);
  printf("  mremap: [0]=%c [5000]=%c [10500]=%d\n", moved[0], moved[5000], moved[10500]);
  printf("  grown past the end: %d\n", touch(moved, 4 * PG, 0));
  ftruncate(fd, 5 * PG);
  printf("  after ftruncate to 5 pages: %d\n", touch(moved, 4 * PG + 10, 0));
  moved[4 * PG] = 'G';
  munmap(moved, 5 * PG);
  munmap(s2, PG);
  file_bytes(fd, "  after munmap");
  char tail;
  pread(fd, &tail, 1, 4 * PG);
  printf("  file[16384]=%c\n", tail);

  printf("read-only fd\n");
  int ro = open(path, O_RDONLY);
  errno = 0;
  void *bad = mmap(0, PG, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0);
  printf("  shared writable: %s\n", bad == MAP_FAILED ? strerror(errno) : "mapped");
  char *r = mmap(0, PG, PROT_READ, MAP_SHARED, ro, 0);
  printf("  mprotect PROT_WRITE: %s\n", mprotect(r, PG, PROT_READ | PROT_WRITE) ? strerror(errno) : "ok");
  char *rp = mmap(0, PG, PROT_READ, MAP_PRIVATE, ro, 0);
  printf("  private mprotect PROT_WRITE: %s\n", mprotect(rp, PG, PROT_READ | PROT_WRITE) ? strerror(errno) : "ok");
  rp[3] = 'P';
  printf("  r[3]=%c rp[3]=%c\n", r[3], rp[3]);
  close(ro);
  printf("  after close: r[0]=%c\n", r[0]);

  close(fd);
  unlink(path);
  return 0;
}
