// /proc/self/cmdline, environ and auxv describe the guest, not the emulator.
// ARGS: first "second arg" third
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

static size_t slurp(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) { printf("cannot open %s\n", path); return 0; }
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

int main(int argc, char **argv) {
  static char buf[65536];
  size_t n = slurp("/proc/self/cmdline", buf, sizeof buf);
  int args = 0;
  for (size_t i = 0; i < n; i += strlen(buf + i) + 1, args++)
    if (args > 0) printf("cmdline arg %d: %s\n", args, buf + i);
  printf("cmdline args %d argc %d\n", args, argc);
  n = slurp("/proc/self/environ", buf, sizeof buf);
  int home = 0;
  for (size_t i = 0; i < n; i += strlen(buf + i) + 1) if (strncmp(buf + i, "HOME=", 5) == 0) home = !strcmp(buf + i + 5, getenv("HOME"));
  printf("environ has HOME as getenv says: %d\n", home);
  n = slurp("/proc/self/auxv", buf, sizeof buf);
  const Elf64_auxv_t *a = (const Elf64_auxv_t *)buf;
  int found = 0, same = 0;
  for (size_t i = 0; i < n / sizeof *a && a[i].a_type != AT_NULL; i++) {
    if (a[i].a_type == AT_PAGESZ || a[i].a_type == AT_ENTRY || a[i].a_type == AT_PHNUM) {
      found++;
      same += a[i].a_un.a_val == getauxval(a[i].a_type);
    }
  }
  printf("auxv entries checked %d, equal to getauxval %d\n", found, same);
  return 0;
}
