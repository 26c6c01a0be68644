/*
 * sys.c - system call wrappers usable in every mode, and stdio-free printing.
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>

long usm__syscall_mm(long nr, long a1, long a2, long a3, long a4, long a5, long a6, int user);

long usm_syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
  long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
  va_end(ap);
  if (usm__active && usm_cpl() == 0) return usm__syscall_mm(nr, a1, a2, a3, a4, a5, a6, 0);
  return usm__raw_syscall6(nr, a1, a2, a3, a4, a5, a6);
}

static long set_errno(long r) {
  if (USM__IS_ERR(r)) {
    errno = (int)-r;
    return -1;
  }
  return r;
}

void *usm_mmap(void *addr, size_t len, int prot, int flags, int fd, long off) {
  long r = usm_syscall(SYS_mmap, (long)addr, (long)len, (long)prot, (long)flags, (long)fd, off);
  if (USM__IS_ERR(r)) {
    errno = (int)-r;
    return MAP_FAILED;
  }
  return (void *)r;
}

int usm_munmap(void *addr, size_t len) { return (int)set_errno(usm_syscall(SYS_munmap, (long)addr, (long)len, 0L, 0L, 0L, 0L)); }

int usm_mprotect(void *addr, size_t len, int prot) {
  return (int)set_errno(usm_syscall(SYS_mprotect, (long)addr, (long)len, (long)prot, 0L, 0L, 0L));
}

static int vdprint(int fd, const char *fmt, va_list ap) {
  char buf[1024];
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  if (n < 0) return n;
  if (n > (int)sizeof buf - 1) n = (int)sizeof buf - 1;
  long off = 0;
  while (off < n) {
    long w = usm__raw_syscall6(SYS_write, fd, (long)(buf + off), n - off, 0, 0, 0);
    if (w <= 0) break;
    off += w;
  }
  return n;
}

int usm_vprintf(const char *fmt, va_list ap) { return vdprint(1, fmt, ap); }

int usm_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vdprint(1, fmt, ap);
  va_end(ap);
  return n;
}

int usm_dprintf(int fd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vdprint(fd, fmt, ap);
  va_end(ap);
  return n;
}

void usm_exit(int status) {
  for (;;) usm__raw_syscall6(SYS_exit_group, status, 0, 0, 0, 0, 0);
}
