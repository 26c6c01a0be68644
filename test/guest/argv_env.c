// argv and the environment: argc, each argument (with spaces, empty, unicode), the environment
// (sorted, as the harness passes a fixed set), getenv/setenv/unsetenv/putenv, and the auxv values
// that do not vary between runs.
// EXIT: 9
// ARGS: alpha "two words" "" 123 -x --flag=value "ünïcødé" last
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>

extern char **environ;
static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv, char **envp) {
  printf("argc=%d\n", argc);
  printf("argv[0] non-empty: %d\n", argv[0] && argv[0][0] != 0);
  for (int i = 1; i < argc; i++) printf("argv[%d] = '%s' (%zu bytes)\n", i, argv[i], strlen(argv[i]));
  printf("argv[argc] is NULL: %d\n", argv[argc] == NULL);
  printf("envp == environ: %d\n", envp == environ);
  int n = 0;
  while (envp[n]) n++;
  char **copy = malloc(sizeof(char *) * (size_t)(n + 1));
  memcpy(copy, envp, sizeof(char *) * (size_t)n);
  qsort(copy, (size_t)n, sizeof(char *), cmp);
  printf("%d environment variables:\n", n);
  for (int i = 0; i < n; i++) printf("  %s\n", copy[i]);
  free(copy);
  const char *keys[] = {"PATH", "HOME", "LANG", "USMJIT_TEST", "NOT_SET_ANYWHERE"};
  for (int i = 0; i < 5; i++) printf("getenv(%s) = %s\n", keys[i], getenv(keys[i]) ? getenv(keys[i]) : "(null)");
  setenv("NEW_VAR", "new value", 1);
  setenv("HOME", "/nowhere", 0);
  setenv("LANG", "overwritten", 1);
  putenv("PUT=yes");
  unsetenv("PATH");
  printf("after changes: NEW_VAR=%s HOME=%s LANG=%s PUT=%s PATH=%s\n", getenv("NEW_VAR"), getenv("HOME"),
         getenv("LANG"), getenv("PUT"), getenv("PATH") ? getenv("PATH") : "(null)");
  printf("auxv: pagesz=%lu secure=%lu uid_eq_euid=%d has_random=%d has_phdr=%d entry_set=%d\n",
         getauxval(AT_PAGESZ), getauxval(AT_SECURE), getauxval(AT_UID) == getauxval(AT_EUID),
         getauxval(AT_RANDOM) != 0, getauxval(AT_PHDR) != 0, getauxval(AT_ENTRY) != 0);
  const char *execfn = (const char *)getauxval(AT_EXECFN);
  printf("AT_EXECFN equals argv[0]: %d\n", execfn && strcmp(execfn, argv[0]) == 0);
  const char *plat = (const char *)getauxval(AT_PLATFORM);
  printf("AT_PLATFORM: %s\n", plat ? plat : "(none)");
  return argc;
}
